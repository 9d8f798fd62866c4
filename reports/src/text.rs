//! Plain-text helpers shared by the readable renderers: HTML escaping, and word wrapping, so that descriptions and
//! explanations read as paragraphs whatever their length, and the same on every terminal.

/// Wraps `text` at `width` columns, each line starting with `indent`. Words longer than a line
/// stay whole; line breaks already in the text are kept.
pub fn wrap(text: &str, indent: &str, width: usize) -> Vec<String> {
    text.lines().flat_map(|paragraph| wrap_paragraph(paragraph, indent, width)).collect()
}

fn wrap_paragraph(paragraph: &str, indent: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::from(indent);
    for word in paragraph.split_whitespace() {
        let has_words = columns(&line) > columns(indent);
        if has_words && columns(&line) + 1 + columns(word) > width {
            lines.push(std::mem::replace(&mut line, String::from(indent)));
        } else if has_words {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

/// Columns as characters, not bytes: descriptions quote sources in any script.
fn columns(text: &str) -> usize {
    text.chars().count()
}

/// Escapes text for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_the_width_with_the_indent() {
        let lines = wrap("one two three four", "  ", 11);
        assert_eq!(lines, vec!["  one two", "  three", "  four"]);
    }

    #[test]
    fn keeps_long_words_and_line_breaks() {
        let lines = wrap("abcdefghijkl\nx", "", 5);
        assert_eq!(lines, vec!["abcdefghijkl", "x"]);
    }

    #[test]
    fn counts_characters_not_bytes() {
        let lines = wrap("如何保证 消息不丢失", "", 10);
        assert_eq!(lines, vec!["如何保证 消息不丢失"]);
    }
}
