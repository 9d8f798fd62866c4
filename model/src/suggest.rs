//! "Did you mean" hints: the known name closest to a misspelt one. Scenario files are written by
//! hand, so a typo in a key must point at the key the writer meant instead of only being refused.
//! The comparison forgives case and the separator (`linger_ms` and `Linger.Ms` both find
//! `linger.ms`), then allows about one edit per three characters, so short words only match near
//! twins and nothing unrelated is ever suggested.

/// Words longer than this are not compared: no key is that long, and edit distance is quadratic.
const MAX_WORD_LEN: usize = 100;

/// The candidate closest to `word`, if one is reasonably close. Ties go to the earlier
/// candidate, so the answer is deterministic for a given candidate order.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    if word.chars().count() > MAX_WORD_LEN {
        return None;
    }
    let word_n = normalize(word);
    candidates
        .into_iter()
        .map(|c| (strsim::osa_distance(&word_n, &normalize(c)), c))
        .filter(|&(distance, c)| distance <= allowed_edits(word, c))
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, c)| c)
}

/// One edit per three characters of the longer word, at least one: `ack` finds `acks`, but `at`
/// does not find `acks`.
fn allowed_edits(a: &str, b: &str) -> usize {
    (a.chars().count().max(b.chars().count()) / 3).max(1)
}

/// Lower case, and every separator written as `.` (Kafka's own).
fn normalize(word: &str) -> String {
    word.chars()
        .map(|c| match c {
            '_' | '-' | ' ' => '.',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::closest;

    const PRODUCER: [&str; 4] = ["acks", "linger.ms", "retries", "request.timeout.ms"];

    #[test]
    fn finds_typos_and_other_separators() {
        assert_eq!(closest("ack", PRODUCER), Some("acks"));
        assert_eq!(closest("linger_ms", PRODUCER), Some("linger.ms"));
        assert_eq!(closest("Linger.Ms", PRODUCER), Some("linger.ms"));
        assert_eq!(closest("retires", PRODUCER), Some("retries"));
        assert_eq!(closest("request.timeout", PRODUCER), Some("request.timeout.ms"));
    }

    #[test]
    fn suggests_nothing_unrelated() {
        assert_eq!(closest("at", PRODUCER), None);
        assert_eq!(closest("compression.type", PRODUCER), None);
        assert_eq!(closest("", PRODUCER), None);
        assert_eq!(closest(&"x".repeat(10_000), PRODUCER), None);
    }

    #[test]
    fn ties_go_to_the_first_candidate() {
        assert_eq!(closest("bode", ["mode", "node"]), Some("mode"));
        assert_eq!(closest("bode", ["node", "mode"]), Some("node"));
    }
}
