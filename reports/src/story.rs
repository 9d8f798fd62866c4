//! Stories: consecutive findings of one class that tell the same story, told once as a range
//! ("p1#805..p1#1104, 300 records"). A lost leader takes hundreds of records with it and their
//! explanations differ only in the record's id and offsets; printing each one buries the few
//! stories that do differ, and made a single `report.md` megabytes of near-identical
//! paragraphs. Two findings share a story when they are of one class and partition and their
//! explanations are identical once the record's own id, every offset, and the times in the
//! sentences about the record itself are abstracted away. A sentence is about the record when
//! it names its id or its own offset, or calls it "it", as the checker's sentences do ("p1#311
//! was acknowledged at 9.107 s", "b1 appended it at offset 311 ... at 0.322 s", "when c1 read
//! it at 45.190 s"): the records of one produce batch after another differ only there, and in
//! the other records such a sentence names beside them ("when offset 2088 held another
//! record, p1#2088"), which are abstracted too. Times anywhere else are kept ("b1 crashed at 12.326 s"), so records lost to two different crashes,
//! or acknowledged before and after an ISR change (the sentences then come in another order),
//! are different stories. A story is told with the explanation of its first record, which
//! names that record's times and offsets.

use losslab_model::{Finding, FindingClass, MsgId};

/// Consecutive findings (in the verdict's order, within one class) with one story.
#[derive(Clone, Debug, PartialEq)]
pub struct Story {
    /// The first finding of the range: the story is told with its explanation.
    pub first: Finding,
    /// The record of the last finding, when it has one.
    pub last: Option<MsgId>,
    /// How many findings the range holds (at least 1).
    pub records: u64,
}

impl Story {
    pub fn class(&self) -> FindingClass {
        self.first.class
    }

    /// `p1#805..p1#1104` for a range, `p1#17` for one record, `the run` for a per-run finding.
    pub fn subject(&self) -> String {
        match (self.first.message, self.last) {
            (Some(first), Some(last)) if self.records > 1 => format!("{first}..{last}"),
            (Some(first), _) => first.to_string(),
            (None, _) => "the run".to_string(),
        }
    }

    /// `, 300 records` for a range; empty for a single finding.
    pub fn records_suffix(&self) -> String {
        match self.records {
            1 => String::new(),
            n => format!(", {n} records"),
        }
    }
}

/// The stories of `findings`, class by class in [`FindingClass::ALL`]'s order, each class's in
/// the order its findings come.
pub fn stories(findings: &[Finding]) -> Vec<Story> {
    FindingClass::ALL
        .into_iter()
        .flat_map(|class| of_class(findings.iter().filter(move |f| f.class == class)))
        .collect()
}

fn of_class<'a>(findings: impl Iterator<Item = &'a Finding>) -> Vec<Story> {
    let mut stories: Vec<Story> = Vec::new();
    // The shape of the current story's first explanation, kept only while the story grows.
    let mut current_shape = String::new();
    for finding in findings {
        let shape = shape(finding);
        match stories.last_mut() {
            Some(story) if story.first.partition == finding.partition && shape == current_shape => {
                story.last = finding.message;
                story.records += 1;
            }
            _ => {
                stories.push(Story { first: finding.clone(), last: finding.message, records: 1 });
                current_shape = shape;
            }
        }
    }
    stories
}

/// The explanation with the finding's own record id replaced by `{record}`, each number after
/// "offset " or "offsets " (a single offset or an `a..b` range) by `N`, and each time
/// (`12.345 s`) in a sentence about the record by `T s`.
fn shape(finding: &Finding) -> String {
    let own = finding.message.map(|m| m.to_string());
    let own = own.as_deref();
    let sentences: Vec<&str> = finding.explanation.split(". ").collect();
    let own_offsets: Vec<&str> =
        sentences.iter().filter(|s| own.is_some_and(|id| names(s, id))).flat_map(|s| single_offsets(s)).collect();
    let about_record = |s: &str| {
        own.is_some_and(|id| names(s, id) || says_it(s)) || single_offsets(s).iter().any(|o| own_offsets.contains(o))
    };
    sentences.iter().map(|s| abstracted(s, own, about_record(s))).collect::<Vec<_>>().join(". ")
}

fn abstracted(sentence: &str, own: Option<&str>, about_record: bool) -> String {
    let mut out = String::with_capacity(sentence.len());
    let mut rest = sentence;
    let mut after_word_char = false;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = own.and_then(|id| rest.strip_prefix(id)).filter(|a| !starts_with_digit(a)) {
            out.push_str("{record}");
            rest = after;
        } else if let Some((word, after)) = offset_word(rest) {
            out.push_str(word);
            out.push('N');
            rest = skip_digits(after);
            if let Some(end) = rest.strip_prefix("..").filter(|a| starts_with_digit(a)) {
                out.push_str("..N");
                rest = skip_digits(end);
            }
        } else if let Some(after) = time(rest).filter(|_| about_record && !after_word_char) {
            out.push_str("T s");
            rest = after;
        } else if let Some(after) = record_id(rest).filter(|_| about_record && !after_word_char) {
            // Another record named beside this one ("when offset 2088 held another record,
            // p1#2088"): each record of a range has its own neighbour.
            out.push_str("{other}");
            rest = after;
        } else if c.is_ascii_digit() {
            // A whole number at once, so that no match starts inside it.
            let after = skip_digits(rest);
            out.push_str(&rest[..rest.len() - after.len()]);
            rest = after;
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
        after_word_char = out.ends_with(|c: char| c.is_alphanumeric() || c == '#' || c == '.');
    }
    out
}

/// Whether `sentence` names the record `id` (not a longer id that starts with it).
fn names(sentence: &str, id: &str) -> bool {
    sentence.match_indices(id).any(|(i, _)| !starts_with_digit(&sentence[i + id.len()..]))
}

/// Whether `sentence` has the word "it" (not "its", "with"): the checker's name for the record.
fn says_it(sentence: &str) -> bool {
    sentence.match_indices("it").any(|(i, _)| {
        let before = sentence[..i].chars().next_back();
        let after = sentence[i + 2..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// The offsets a sentence names one at a time ("offset 311"), not in ranges.
fn single_offsets(sentence: &str) -> Vec<&str> {
    sentence
        .match_indices("offset ")
        .filter_map(|(i, word)| {
            let after = &sentence[i + word.len()..];
            let digits = &after[..after.len() - skip_digits(after).len()];
            (!digits.is_empty()).then_some(digits)
        })
        .collect()
}

/// The rest of `text` after a record id (`p1#2088`), if it starts with one.
fn record_id(text: &str) -> Option<&str> {
    let producer = text.strip_prefix('p').filter(|t| starts_with_digit(t))?;
    let seq = skip_digits(producer).strip_prefix('#').filter(|t| starts_with_digit(t))?;
    Some(skip_digits(seq))
}

/// The rest of `text` after a time as `fmt_time` writes it (`12.345 s`), if it starts with one.
fn time(text: &str) -> Option<&str> {
    let after_whole = skip_digits(text);
    let fraction = after_whole.strip_prefix('.').filter(|f| starts_with_digit(f))?;
    skip_digits(fraction).strip_prefix(" s")
}

/// `("offsets ", digits...)` when `text` starts with the word and a number.
fn offset_word(text: &str) -> Option<(&'static str, &str)> {
    ["offsets ", "offset "]
        .into_iter()
        .find_map(|word| text.strip_prefix(word).filter(|after| starts_with_digit(after)).map(|after| (word, after)))
}

fn starts_with_digit(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_digit())
}

fn skip_digits(text: &str) -> &str {
    text.trim_start_matches(|c: char| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lost(seq: u64, explanation: &str) -> Finding {
        Finding {
            class: FindingClass::LostAcked,
            message: Some(MsgId { producer: 1, seq }),
            partition: Some(0),
            explanation: explanation.to_string(),
        }
    }

    /// The checker's sentence for a record truncated with its neighbours.
    fn truncated(seq: u64, acked_at: &str) -> Finding {
        lost(
            seq,
            &format!(
                "p1#{seq} was acknowledged at {acked_at} (acks=all, partition 0, offset {seq}). b1 appended it at \
                 offset {seq} in leader epoch 0. b1 truncated offsets 311..3000 at 28.338 s."
            ),
        )
    }

    #[test]
    fn records_differing_only_in_id_and_offsets_share_a_story() {
        let findings: Vec<Finding> = (805..=1104).map(|seq| truncated(seq, "9.107 s")).collect();
        let stories = stories(&findings);
        assert_eq!(stories.len(), 1);
        assert_eq!(stories[0].subject(), "p1#805..p1#1104");
        assert_eq!(stories[0].records_suffix(), ", 300 records");
        assert_eq!(stories[0].first, findings[0]);
    }

    #[test]
    fn times_of_the_records_own_events_do_not_split_a_story() {
        let findings = [truncated(1, "9.107 s"), truncated(2, "9.107 s"), truncated(3, "9.171 s")];
        let subjects: Vec<String> = stories(&findings).iter().map(|s| s.subject() + &s.records_suffix()).collect();
        assert_eq!(subjects, ["p1#1..p1#3, 3 records"]);
    }

    #[test]
    fn a_sentence_that_calls_the_record_it_is_about_the_record() {
        let read =
            |seq: u64, at: &str| lost(seq, &format!("p1#{seq} was lost. When c1 read it at {at} the ISR was [1]"));
        let stories = stories(&[read(1, "45.190 s"), read(2, "45.191 s")]);
        assert_eq!(stories.len(), 1);
        assert!(says_it("b3 did not hold it") && says_it("it, then") && !says_it("its log, with b1"));
    }

    #[test]
    fn times_of_other_events_do_split_a_story() {
        let crash = |seq: u64, at: &str| {
            lost(seq, &format!("p1#{seq} was acknowledged at 1.{seq:03} s. b1 crashed at {at}. b1 lost it"))
        };
        let findings = [crash(1, "5.000 s"), crash(2, "5.000 s"), crash(3, "7.000 s")];
        let subjects: Vec<String> = stories(&findings).iter().map(|s| s.subject() + &s.records_suffix()).collect();
        assert_eq!(subjects, ["p1#1..p1#2, 2 records", "p1#3"]);
    }

    #[test]
    fn other_records_are_abstracted_only_in_sentences_about_this_one() {
        assert!(!names("p1#120 was overwritten", "p1#12"), "p1#120 is not p1#12");
        let a = lost(12, "p1#12 was overwritten by p1#120. Later p1#130 came");
        let b = lost(13, "p1#13 was overwritten by p1#121. Later p1#130 came");
        let c = lost(14, "p1#14 was overwritten by p1#122. Later p1#131 came");
        assert_eq!(shape(&a), "{record} was overwritten by {other}. Later p1#130 came");
        assert_eq!(stories(&[a.clone(), b]).len(), 1);
        assert_eq!(stories(&[a, c]).len(), 2);
    }

    #[test]
    fn classes_and_partitions_are_never_merged() {
        let mut other_partition = truncated(2, "9.107 s");
        other_partition.partition = Some(1);
        let mut other_class = truncated(3, "9.107 s");
        other_class.class = FindingClass::Duplicated;
        let findings = [truncated(1, "9.107 s"), other_partition, other_class];
        let stories = stories(&findings);
        assert_eq!(stories.len(), 3);
        // Class by class in the order of FindingClass::ALL.
        assert_eq!(stories.iter().map(Story::class).collect::<Vec<_>>()[2], FindingClass::Duplicated);
    }

    #[test]
    fn a_per_run_finding_is_about_the_run() {
        let stuck = Finding { class: FindingClass::Stuck, message: None, partition: None, explanation: "x".into() };
        let stories = stories(&[stuck.clone(), stuck]);
        assert_eq!((stories[0].subject(), stories[0].records), ("the run".to_string(), 2));
    }

    #[test]
    fn shapes_abstract_offsets_and_ranges_only_after_the_word() {
        let f = lost(7, "p1#7 at offset 7; b2 truncated offsets 5..9; 311 records; offset x");
        assert_eq!(shape(&f), "{record} at offset N; b2 truncated offsets N..N; 311 records; offset x");
    }

    #[test]
    fn shapes_abstract_times_only_in_sentences_about_the_record() {
        let f = lost(
            7,
            "p1#7 was acknowledged at 9.107 s (offset 7). b1 appended it at offset 7 at 0.322 s. \
             At 9.100 s the ISR shrank. b1 truncated offsets 7..30 at 28.338 s. p1#70 at 1.5 s",
        );
        assert_eq!(
            shape(&f),
            "{record} was acknowledged at T s (offset N). b1 appended it at offset N at T s. \
             At 9.100 s the ISR shrank. b1 truncated offsets N..N at 28.338 s. p1#70 at 1.5 s"
        );
        let f = lost(7, "p1#7 is at offset 7. c1 polled at 15.010 s, when offset 7 held another record, p1#2088. p2#5");
        assert_eq!(
            shape(&f),
            "{record} is at offset N. c1 polled at T s, when offset N held another record, {other}. p2#5"
        );
    }
}
