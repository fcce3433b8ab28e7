//! `gatehouse run`: the Kubernetes operator (`docs/kubernetes.md`).
//!
//! [`index`] is the pure compile (resources → per-target configuration and status);
//! [`controller`] watches and writes; [`leader`] makes one replica of several active;
//! [`metrics`] serves `/metrics`, `/healthz` and `/readyz`.

pub mod controller;
pub mod error;
pub mod index;
pub mod leader;
pub mod learned;
pub mod metrics;
pub mod outputs;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::watch;

pub use controller::{Controller, ControllerOptions};
pub use leader::{LeaderElector, LeaseOptions};

#[derive(Debug, Clone)]
pub struct OperatorOptions {
    pub controller: ControllerOptions,
    pub metrics_addr: SocketAddr,
    /// `None`: no leader election, this replica is always active.
    pub lease: Option<LeaseOptions>,
}

/// Why the operator stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot connect to Kubernetes: {0}")]
    Client(#[source] kube::Error),
    #[error("metrics endpoint: {0}")]
    Metrics(#[source] std::io::Error),
    #[error("lost the leader lease; exiting so a fresh replica stands by")]
    LostLease,
    #[error(transparent)]
    Operator(#[from] error::Error),
}

/// Runs until `shutdown` becomes true (SIGTERM/SIGINT): elects, then reconciles.
pub async fn run(
    options: OperatorOptions,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), RunError> {
    let client = kube::Client::try_default()
        .await
        .map_err(RunError::Client)?;
    let metrics = Arc::new(metrics::Metrics::default());
    let server = {
        let mut stop = shutdown.clone();
        let metrics = metrics.clone();
        let listener = tokio::net::TcpListener::bind(options.metrics_addr)
            .await
            .map_err(RunError::Metrics)?;
        tokio::spawn(async move {
            let stop = async move { controller::stopped(&mut stop).await };
            if let Err(e) = metrics::serve(listener, metrics, stop).await {
                tracing::error!(error = %e, "metrics endpoint failed");
            }
        })
    };

    let elector = options
        .lease
        .clone()
        .map(|lease| LeaderElector::new(client.clone(), lease));
    if let Some(elector) = &elector {
        // A follower is ready: it serves nothing but must not be restarted for waiting.
        metrics.ready.store(true, Ordering::Relaxed);
        tracing::info!(identity = %elector.options().identity, lease = %elector.options().name, "waiting to become the leader");
        loop {
            match elector.try_acquire_or_renew().await {
                Ok(true) => break,
                Ok(false) => {}
                Err(e) => {
                    metrics.error(e.metric_label());
                    tracing::warn!(error = %e, "leader election");
                }
            }
            tokio::select! {
                () = tokio::time::sleep(elector.options().renew_every) => {}
                () = controller::stopped(&mut shutdown) => {
                    let _ = server.await;
                    return Ok(());
                }
            }
        }
        metrics.ready.store(false, Ordering::Relaxed);
        tracing::info!(identity = %elector.options().identity, "became the leader");
    }
    metrics.leader.set(1);

    let (stop_tx, stop_rx) = watch::channel(false);
    let controller = Controller::new(client.clone(), options.controller.clone(), metrics.clone());
    let mut reconciling = tokio::spawn(controller.run(stop_rx));
    let mut lost = false;
    let mut last_renewed = std::time::Instant::now();
    loop {
        let renew_every = elector
            .as_ref()
            .map_or(std::time::Duration::from_secs(3600), |e| {
                e.options().renew_every
            });
        tokio::select! {
            () = controller::stopped(&mut shutdown) => break,
            result = &mut reconciling => {
                match result {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::error!(error = %e, "controller stopped"),
                    Err(e) => tracing::error!(error = %e, "controller task failed"),
                }
                break;
            }
            () = tokio::time::sleep(renew_every) => {
                let Some(elector) = &elector else { continue };
                match elector.try_acquire_or_renew().await {
                    Ok(true) => last_renewed = std::time::Instant::now(),
                    Ok(false) => { lost = true; break; }
                    Err(e) => {
                        metrics.error(e.metric_label());
                        tracing::warn!(error = %e, "cannot renew the lease");
                        if last_renewed.elapsed() >= elector.options().duration {
                            lost = true;
                            break;
                        }
                    }
                }
            }
        }
    }
    let _ = stop_tx.send(true);
    let _ = reconciling.await;
    metrics.leader.set(0);
    if let Some(elector) = &elector {
        if !lost {
            if let Err(e) = elector.release().await {
                tracing::warn!(error = %e, "cannot release the lease");
            }
        }
    }
    if lost {
        return Err(RunError::LostLease);
    }
    let _ = server.await;
    Ok(())
}
