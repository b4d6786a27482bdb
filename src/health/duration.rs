//! Durations in configuration: strings of seconds (`"10s"`, `"0.25s"`) or milliseconds
//! (`"250ms"`), for every lifecycle option that holds a time.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer, de};

pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    let (secs, nanos) = (d.as_secs(), d.subsec_nanos());
    if nanos == 0 {
        s.collect_str(&format_args!("{secs}s"))
    } else {
        let fraction = format!("{nanos:09}");
        s.collect_str(&format_args!("{secs}.{}s", fraction.trim_end_matches('0')))
    }
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse(&text).ok_or_else(|| {
        de::Error::invalid_value(
            de::Unexpected::Str(&text),
            &"a duration such as \"10s\", \"0.5s\" or \"250ms\"",
        )
    })
}

/// `<digits>[.<digits>]s` or `<digits>ms`, at most nanosecond precision.
pub(crate) fn parse(text: &str) -> Option<Duration> {
    if let Some(ms) = text.strip_suffix("ms") {
        return digits(ms).map(Duration::from_millis);
    }
    let seconds = text.strip_suffix('s')?;
    let (whole, fraction) = match seconds.split_once('.') {
        Some((w, f)) if !f.is_empty() && f.len() <= 9 => (w, f),
        Some(_) => return None,
        None => (seconds, ""),
    };
    let secs = digits(whole)?;
    let nanos = if fraction.is_empty() {
        0
    } else {
        digits(fraction)? * 10u64.pow(9 - fraction.len() as u32)
    };
    Some(Duration::new(secs, nanos as u32))
}

fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

pub(crate) mod option {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        #[derive(Deserialize)]
        struct Text(#[serde(with = "super")] Duration);
        Ok(Option::<Text>::deserialize(d)?.map(|Text(d)| d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_seconds_or_milliseconds() {
        assert_eq!(parse("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse("0.25s"), Some(Duration::from_millis(250)));
        assert_eq!(parse("1.000000001s"), Some(Duration::new(1, 1)));
        assert_eq!(parse("250ms"), Some(Duration::from_millis(250)));
        for bad in [
            "",
            "s",
            "10",
            "1.s",
            ".5s",
            "-1s",
            "1.0000000001s",
            "1e3s",
            "5 s",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
