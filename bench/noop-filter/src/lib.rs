//! The cheapest useful proxy-wasm HTTP filter: it adds `x-noop: 1` to every response.
//!
//! `gatehouse-bench` runs it as the reference for "what does merely having a wasm filter
//! cost", so Gatehouse's own overhead can be read off as the difference. It is built with
//! the same release profile as the Gatehouse filter:
//! `cargo build --release --target wasm32-wasip1 -p noop-filter`
//! (→ `target/wasm32-wasip1/release/noop_filter.wasm`).

#[cfg(target_arch = "wasm32")]
mod glue {
    use proxy_wasm::traits::{Context, HttpContext, RootContext};
    use proxy_wasm::types::{Action, ContextType, LogLevel};

    proxy_wasm::main! {{
        proxy_wasm::set_log_level(LogLevel::Warn);
        proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(NoopRoot) });
    }}

    struct NoopRoot;

    impl Context for NoopRoot {}

    impl RootContext for NoopRoot {
        fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
            Some(Box::new(NoopHttp))
        }

        fn get_type(&self) -> Option<ContextType> {
            Some(ContextType::HttpContext)
        }
    }

    struct NoopHttp;

    impl Context for NoopHttp {}

    impl HttpContext for NoopHttp {
        fn on_http_response_headers(
            &mut self,
            _num_headers: usize,
            _end_of_stream: bool,
        ) -> Action {
            self.add_http_response_header("x-noop", "1");
            Action::Continue
        }
    }
}
