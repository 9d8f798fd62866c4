//! Reading a file that a user names (a scenario, an explore configuration, a chart input) with a
//! bound on its size. Every input losslab reads is text a person or losslab itself wrote, far
//! below the bound; reading without one let `losslab replay /dev/zero` grow to gigabytes before
//! failing (issue 17), so a file is read through a limited reader and refused past the bound.

use std::io::Read;
use std::path::Path;

/// The largest input file losslab reads: 16 MiB (the catalogue's largest scenario is a few KiB).
pub const INPUT_BYTES_MAX: u64 = 16 * 1024 * 1024;

/// The text of `path`, or a message naming it: unreadable, larger than [`INPUT_BYTES_MAX`], or
/// not UTF-8. At most one byte past the bound is ever read, whatever the file (a device, a pipe).
pub fn read_text(path: &Path) -> Result<String, String> {
    let label = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {label}: {e}"))?;
    let mut bytes = Vec::new();
    file.take(INPUT_BYTES_MAX + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read {label}: {e}"))?;
    if bytes.len() as u64 > INPUT_BYTES_MAX {
        return Err(format!(
            "cannot read {label}: it is larger than {} MiB, the largest input losslab reads",
            INPUT_BYTES_MAX / (1024 * 1024)
        ));
    }
    String::from_utf8(bytes).map_err(|_| format!("cannot read {label}: stream did not contain valid UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_at_the_bound_is_read_and_one_byte_more_is_refused() {
        let dir = std::env::temp_dir().join(format!("losslab-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let at = dir.join("at.json");
        std::fs::write(&at, vec![b' '; INPUT_BYTES_MAX as usize]).unwrap();
        assert_eq!(read_text(&at).unwrap().len() as u64, INPUT_BYTES_MAX);
        let over = dir.join("over.json");
        std::fs::write(&over, vec![b' '; INPUT_BYTES_MAX as usize + 1]).unwrap();
        let e = read_text(&over).unwrap_err();
        assert!(e.contains("over.json") && e.contains("larger than 16 MiB"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_endless_device_is_refused_after_the_bound() {
        let e = read_text(Path::new("/dev/zero")).unwrap_err();
        assert!(e.contains("/dev/zero") && e.contains("larger than 16 MiB"), "{e}");
    }
}
