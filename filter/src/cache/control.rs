//! RFC 9111 arithmetic: `Cache-Control` directives, HTTP dates, freshness lifetime and age.

/// Parsed `Cache-Control` (request or response; unknown directives ignored, RFC 9111 §5.2.3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directives {
    pub no_store: bool,
    pub no_cache: bool,
    pub private: bool,
    pub public: bool,
    pub must_revalidate: bool,
    pub proxy_revalidate: bool,
    pub only_if_cached: bool,
    pub max_age: Option<u64>,
    pub s_maxage: Option<u64>,
    pub min_fresh: Option<u64>,
    /// `Some(None)`: `max-stale` without a value (any staleness).
    pub max_stale: Option<Option<u64>>,
    pub stale_while_revalidate: Option<u64>,
    pub stale_if_error: Option<u64>,
}

/// Parses every `Cache-Control` value (comma-joined copies are the same field). A
/// directive given twice, or with an invalid value, is handled the conservative way:
/// `max-age` with a bad value counts as 0 (RFC 9111 §4.2.1 says treat as stale).
#[must_use]
pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Directives {
    let mut d = Directives::default();
    for value in values {
        for part in split_list(value) {
            let (name, arg) = match part.split_once('=') {
                Some((n, a)) => (n.trim(), Some(a.trim().trim_matches('"'))),
                None => (part.trim(), None),
            };
            let seconds = || arg.map(|a| a.parse::<u64>().unwrap_or(0));
            match name.to_ascii_lowercase().as_str() {
                "no-store" => d.no_store = true,
                "no-cache" => d.no_cache = true,
                "private" => d.private = true,
                "public" => d.public = true,
                "must-revalidate" => d.must_revalidate = true,
                "proxy-revalidate" => d.proxy_revalidate = true,
                "only-if-cached" => d.only_if_cached = true,
                "max-age" => d.max_age = Some(min_opt(d.max_age, seconds().unwrap_or(0))),
                "s-maxage" => d.s_maxage = Some(min_opt(d.s_maxage, seconds().unwrap_or(0))),
                "min-fresh" => d.min_fresh = seconds(),
                "max-stale" => d.max_stale = Some(seconds()),
                "stale-while-revalidate" => d.stale_while_revalidate = seconds(),
                "stale-if-error" => d.stale_if_error = seconds(),
                _ => {}
            }
        }
    }
    d
}

fn min_opt(current: Option<u64>, new: u64) -> u64 {
    current.map_or(new, |c| c.min(new))
}

/// Splits a list field on commas outside quoted strings.
pub fn split_list(value: &str) -> impl Iterator<Item = &str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in value.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(value.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(value.get(start..).unwrap_or_default());
    parts.into_iter().map(str::trim).filter(|p| !p.is_empty())
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Parses an HTTP-date (IMF-fixdate, RFC 850 and asctime forms, RFC 9110 §5.6.7) into unix
/// seconds.
#[must_use]
pub fn parse_http_date(value: &str) -> Option<u64> {
    let value = value.trim();
    let words: Vec<&str> = value.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    let (day, month, year, time) = match words.as_slice() {
        // Sun, 06 Nov 1994 08:49:37 GMT
        [_, d, m, y, t, "GMT"] if y.len() == 4 => (*d, *m, y.parse::<i64>().ok()?, *t),
        // Sunday, 06-Nov-94 08:49:37 GMT
        [_, dmy, t, "GMT"] => {
            let mut it = dmy.split('-');
            let (d, m, y) = (it.next()?, it.next()?, it.next()?);
            let y: i64 = y.parse().ok()?;
            (d, m, if y < 70 { 2000 + y } else { 1900 + y }, *t)
        }
        // Sun Nov  6 08:49:37 1994
        [_, m, d, t, y] => (*d, *m, y.parse::<i64>().ok()?, *t),
        _ => return None,
    };
    let day: i64 = day.parse().ok()?;
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    let mut hms = time.split(':');
    let (h, mi, s): (i64, i64, i64) = (
        hms.next()?.parse().ok()?,
        hms.next()?.parse().ok()?,
        hms.next()?.parse().ok()?,
    );
    if !(1..=31).contains(&day) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let secs = days_from_civil(year, month, day) * 86_400 + h * 3600 + mi * 60 + s;
    u64::try_from(secs).ok()
}

/// Formats unix seconds as an IMF-fixdate.
#[must_use]
pub fn format_http_date(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
        .get((days.rem_euclid(7)) as usize)
        .copied()
        .unwrap_or("Thu");
    let month = MONTHS.get((m - 1) as usize).copied().unwrap_or("Jan");
    format!(
        "{weekday}, {d:02} {month} {y} {:02}:{:02}:{:02} GMT",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

// Howard Hinnant's civil calendar algorithms.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Statuses cacheable without explicit freshness (RFC 9110 §15.1, "heuristically
/// cacheable"); 206 is left out (ranges are not cached).
pub const HEURISTIC_STATUSES: [u16; 10] = [200, 203, 204, 300, 301, 308, 404, 405, 410, 501];

/// What freshness a response carries, per RFC 9111 §4.2.1 for a shared cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    /// Seconds fresh.
    pub seconds: u64,
    /// Came from the response itself (`s-maxage`, `max-age`, `Expires`).
    pub explicit: bool,
}

/// Inputs of the freshness computation beyond the directives.
#[derive(Debug, Clone, Copy, Default)]
pub struct FreshnessInputs {
    pub status: u16,
    pub date: Option<u64>,
    /// `Some(None)`: an `Expires` that is not a valid date (already expired).
    pub expires: Option<Option<u64>>,
    pub last_modified: Option<u64>,
    /// Heuristic freshness (10% of the time since `Last-Modified`) allowed.
    pub heuristic: bool,
    /// Seconds fresh when the response says nothing (0: none).
    pub default_ttl: u64,
    pub max_ttl: Option<u64>,
    /// When the response arrived (unix seconds), for `Expires` without `Date`.
    pub response_time: u64,
}

/// The freshness lifetime, or `None` when the response gives no basis for one.
#[must_use]
pub fn lifetime(d: &Directives, i: &FreshnessInputs) -> Option<Lifetime> {
    let cap = |s: u64| i.max_ttl.map_or(s, |m| s.min(m));
    if let Some(s) = d.s_maxage.or(d.max_age) {
        return Some(Lifetime {
            seconds: cap(s),
            explicit: true,
        });
    }
    if let Some(expires) = i.expires {
        let base = i.date.unwrap_or(i.response_time);
        let s = expires.map_or(0, |e| e.saturating_sub(base));
        return Some(Lifetime {
            seconds: cap(s),
            explicit: true,
        });
    }
    let heuristic_ok = HEURISTIC_STATUSES.contains(&i.status) || d.public;
    if !heuristic_ok {
        return None;
    }
    if i.heuristic {
        if let Some(lm) = i.last_modified {
            let base = i.date.unwrap_or(i.response_time);
            let s = base.saturating_sub(lm) / 10;
            return Some(Lifetime {
                seconds: cap(s),
                explicit: false,
            });
        }
    }
    (i.default_ttl > 0).then(|| Lifetime {
        seconds: cap(i.default_ttl),
        explicit: false,
    })
}

/// `corrected_initial_age` of RFC 9111 §4.2.3, in seconds.
#[must_use]
pub fn initial_age(
    age_header: Option<u64>,
    date: Option<u64>,
    request_time: u64,
    response_time: u64,
) -> u64 {
    let apparent = date.map_or(0, |d| response_time.saturating_sub(d));
    let delay = response_time.saturating_sub(request_time);
    let corrected = age_header.unwrap_or(0).saturating_add(delay);
    apparent.max(corrected)
}
