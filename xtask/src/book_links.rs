//! The book's relative links and includes: every `[text](target)` that is not a URL or a pure
//! anchor must name a file that exists, relative to the page, and every `{{#include
//! file:anchor}}` a file that exists and holds `ANCHOR: anchor` (mdbook only warns on those).

use std::path::Path;

/// `page: target` for every relative link of the markdown files under `dir` whose target is
/// missing.
pub fn broken(dir: &Path) -> Result<Vec<String>, String> {
    let mut out = vec![];
    let entries = std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|x| x != "md") {
            continue;
        }
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        for target in links(&text) {
            let file = target.split('#').next().unwrap_or("");
            if file.is_empty() || file.contains("://") || file.starts_with("mailto:") {
                continue;
            }
            if !dir.join(file).exists() {
                out.push(format!("{}: {target}", path.display()));
            }
        }
        for (file, anchor) in includes(&text) {
            let included = std::fs::read_to_string(dir.join(&file));
            let found = match (&included, &anchor) {
                (Err(_), _) => false,
                (Ok(_), None) => true,
                (Ok(source), Some(anchor)) => source.lines().any(|l| {
                    l.trim_start().trim_start_matches("//").trim() == format!("ANCHOR: {anchor}")
                }),
            };
            if !found {
                out.push(format!(
                    "{}: {{{{#include {file}{}}}}}",
                    path.display(),
                    anchor.map(|a| format!(":{a}")).unwrap_or_default()
                ));
            }
        }
    }
    Ok(out)
}

/// `(file, anchor)` of every `{{#include file}}` or `{{#include file:anchor}}`.
fn includes(text: &str) -> Vec<(String, Option<String>)> {
    let mut out = vec![];
    let mut rest = text;
    while let Some(at) = rest.find("{{#include ") {
        let after = &rest[at + "{{#include ".len()..];
        let Some(end) = after.find("}}") else { break };
        let target = after[..end].trim();
        let (file, anchor) = match target.split_once(':') {
            // A line range (`file:3:10`) is not an anchor.
            Some((f, a)) if !a.starts_with(|c: char| c.is_ascii_digit()) => {
                (f.to_string(), Some(a.to_string()))
            }
            Some((f, _)) => (f.to_string(), None),
            None => (target.to_string(), None),
        };
        out.push((file, anchor));
        rest = &after[end..];
    }
    out
}

/// The targets of `](target)` links, outside code blocks and code spans.
fn links(text: &str) -> Vec<String> {
    let mut out = vec![];
    let mut in_block = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            continue;
        }
        // Drop code spans.
        let mut plain = String::new();
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 0 {
                plain.push_str(part);
            }
        }
        let mut rest = plain.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            match after.find(')') {
                Some(end) => {
                    out.push(after[..end].trim().to_string());
                    rest = &after[end..];
                }
                None => break,
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_links_outside_code() {
        let text = "see [a](a.md), [b](b.md#x) and [web](https://x.org)\n`[no](c.md)`\n```\n[no](d.md)\n```\n";
        assert_eq!(super::links(text), vec!["a.md", "b.md#x", "https://x.org"]);
    }

    #[test]
    fn finds_includes_and_their_anchors() {
        let text =
            "{{#include ../a.rs:run}}\n```toml\n{{#include b.toml}}\n```\n{{#include c.rs:3:9}}";
        assert_eq!(
            super::includes(text),
            vec![
                ("../a.rs".to_string(), Some("run".to_string())),
                ("b.toml".to_string(), None),
                ("c.rs".to_string(), None),
            ]
        );
    }

    #[test]
    fn the_book_has_no_broken_link_or_include() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src");
        assert_eq!(super::broken(&dir).unwrap(), Vec::<String>::new());
    }
}
