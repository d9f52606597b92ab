//! "Did you mean" suggestions: a typo in a key or value should cost the
//! operator one glance at the error, not a trip to the docs.

/// Levenshtein distance over chars (inputs here are short config keys).
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0usize; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        if let Some(first) = cur.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let del = prev
                .get(j + 1)
                .copied()
                .unwrap_or(usize::MAX)
                .saturating_add(1);
            let ins = cur.get(j).copied().unwrap_or(usize::MAX).saturating_add(1);
            let sub = prev
                .get(j)
                .copied()
                .unwrap_or(usize::MAX)
                .saturating_add(cost);
            if let Some(slot) = cur.get_mut(j + 1) {
                *slot = del.min(ins).min(sub);
            }
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().unwrap_or(0)
}

/// camelCase / kebab-case → snake_case, so `maxScanBytes` and
/// `max-scan-bytes` find `max_scan_bytes`.
fn to_snake(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c == '-' || c == ' ' {
            out.push('_');
        } else {
            out.push(c);
        }
    }
    out
}

/// The closest candidate within a length-scaled edit distance, if any.
pub(crate) fn did_you_mean<'a, I>(input: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    // Bound the work: config keys are short; anything long is not a typo.
    if input.chars().count() > 128 {
        return None;
    }
    let plain = input.trim().to_lowercase();
    let snake = to_snake(input.trim()).to_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for cand in candidates {
        let c = cand.to_lowercase();
        let d = edit_distance(&plain, &c).min(edit_distance(&snake, &c));
        let limit = (cand.chars().count().div_ceil(3)).max(1);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

/// ` — did you mean "x"?` or nothing.
pub(crate) fn suffix<'a, I>(input: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    match did_you_mean(input, candidates) {
        Some(c) => format!(" — did you mean \"{c}\"?"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_basics() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("max_scan_byte", "max_scan_bytes"), 1);
    }

    #[test]
    fn suggestions() {
        let keys = ["max_scan_bytes", "mode", "listen", "log_dir"];
        assert_eq!(did_you_mean("max_scan_byte", keys), Some("max_scan_bytes"));
        assert_eq!(did_you_mean("maxScanBytes", keys), Some("max_scan_bytes"));
        assert_eq!(did_you_mean("lsiten", keys), Some("listen"));
        assert_eq!(did_you_mean("mod", keys), Some("mode"));
        assert_eq!(did_you_mean("completely_unrelated", keys), None);
        assert_eq!(
            did_you_mean("ENV_MAX_SCAN_BYTE", ["ENV_MAX_SCAN_BYTES", "ENV_MODE"]),
            Some("ENV_MAX_SCAN_BYTES")
        );
        assert_eq!(suffix("xyz", keys), "");
        assert_eq!(suffix("log_dri", keys), " — did you mean \"log_dir\"?");
    }
}
