//! The command that replays a run. Every readable report ends with it, because a loss is only
//! useful once someone else can see it happen again: the same file and seeds give the same run.

/// `losslab replay FILE --seed N`, with `--seeds COUNT` when the run covered several seeds.
/// The file is quoted for a POSIX shell when it needs to be, so the line can be pasted as is.
pub fn replay_command(file: &str, first_seed: u64, seeds: usize) -> String {
    let mut command = format!("losslab replay {} --seed {first_seed}", shell_quote(file));
    if seeds > 1 {
        command.push_str(&format!(" --seeds {seeds}"));
    }
    command
}

fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./,:=@%+".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_seed_names_only_the_seed() {
        assert_eq!(replay_command("scenarios/x.json", 3, 1), "losslab replay scenarios/x.json --seed 3");
    }

    #[test]
    fn several_seeds_name_the_count() {
        assert_eq!(replay_command("x.json", 1, 4), "losslab replay x.json --seed 1 --seeds 4");
    }

    #[test]
    fn unusual_paths_are_quoted() {
        assert_eq!(replay_command("my dir/it's.json", 1, 1), r"losslab replay 'my dir/it'\''s.json' --seed 1");
        assert_eq!(replay_command("", 1, 1), "losslab replay '' --seed 1");
    }
}
