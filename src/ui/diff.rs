//! A small line-based diff (longest common subsequence) for "latest vs previous message".
//!
//! Common leading and trailing lines are trimmed first, so the usual case (a value changed on one
//! line of a big JSON document) costs next to nothing. The quadratic table is only built for the
//! differing middle, and only when it is small; beyond that the middle is shown as removed and
//! added wholesale rather than freezing the UI.

/// Largest `old_lines * new_lines` for which the exact LCS table is built (4 bytes per cell).
const MAX_TABLE_CELLS: usize = 1 << 20;

/// Whether a line is in both texts or only one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineChange {
    Same,
    /// Only in the newer text.
    Added,
    /// Only in the older text.
    Removed,
}

/// One line of the diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub change: LineChange,
    pub text: String,
}

/// The line diff from `old` to `new`, in order.
pub fn diff_lines(old: &str, new: &str) -> Vec<DiffLine> {
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();

    let prefix = old_lines
        .iter()
        .zip(&new_lines)
        .take_while(|(a, b)| a == b)
        .count();
    let max_suffix = old_lines.len().min(new_lines.len()) - prefix;
    let suffix = old_lines
        .iter()
        .rev()
        .zip(new_lines.iter().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();

    let mut out = Vec::with_capacity(old_lines.len().max(new_lines.len()));
    push_all(&mut out, LineChange::Same, &old_lines[..prefix]);
    let old_middle = &old_lines[prefix..old_lines.len() - suffix];
    let new_middle = &new_lines[prefix..new_lines.len() - suffix];
    diff_middle(&mut out, old_middle, new_middle);
    push_all(
        &mut out,
        LineChange::Same,
        &old_lines[old_lines.len() - suffix..],
    );
    out
}

/// True when no line changed.
pub fn is_unchanged(diff: &[DiffLine]) -> bool {
    diff.iter().all(|line| line.change == LineChange::Same)
}

fn push_all(out: &mut Vec<DiffLine>, change: LineChange, lines: &[&str]) {
    out.extend(lines.iter().map(|text| DiffLine {
        change,
        text: (*text).to_owned(),
    }));
}

fn diff_middle(out: &mut Vec<DiffLine>, old: &[&str], new: &[&str]) {
    if old.len().saturating_mul(new.len()) > MAX_TABLE_CELLS {
        push_all(out, LineChange::Removed, old);
        push_all(out, LineChange::Added, new);
        return;
    }
    // lcs[i][j] = length of the LCS of old[i..] and new[j..], stored row-major.
    let width = new.len() + 1;
    let mut lcs = vec![0u32; (old.len() + 1) * width];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            lcs[i * width + j] = if old[i] == new[j] {
                lcs[(i + 1) * width + j + 1] + 1
            } else {
                lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < old.len() && j < new.len() {
        if old[i] == new[j] {
            push_all(out, LineChange::Same, &old[i..=i]);
            i += 1;
            j += 1;
        } else if lcs[(i + 1) * width + j] >= lcs[i * width + j + 1] {
            push_all(out, LineChange::Removed, &old[i..=i]);
            i += 1;
        } else {
            push_all(out, LineChange::Added, &new[j..=j]);
            j += 1;
        }
    }
    push_all(out, LineChange::Removed, &old[i..]);
    push_all(out, LineChange::Added, &new[j..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(diff: &[DiffLine]) -> Vec<String> {
        diff.iter()
            .map(|line| {
                let mark = match line.change {
                    LineChange::Same => ' ',
                    LineChange::Added => '+',
                    LineChange::Removed => '-',
                };
                format!("{mark}{}", line.text)
            })
            .collect()
    }

    #[test]
    fn identical_texts_have_only_unchanged_lines() {
        let diff = diff_lines("a\nb", "a\nb");
        assert!(is_unchanged(&diff));
        assert_eq!(render(&diff), [" a", " b"]);
    }

    #[test]
    fn a_changed_middle_line_shows_as_removed_then_added() {
        let diff = diff_lines("{\n  \"t\": 20.5\n}", "{\n  \"t\": 21.0\n}");
        assert_eq!(
            render(&diff),
            [" {", "-  \"t\": 20.5", "+  \"t\": 21.0", " }"]
        );
    }

    #[test]
    fn insertions_and_deletions_keep_the_common_lines_in_order() {
        let diff = diff_lines("a\nb\nc\nd", "a\nc\nx\nd");
        assert_eq!(render(&diff), [" a", "-b", " c", "+x", " d"]);
    }

    #[test]
    fn empty_old_text_makes_every_line_added() {
        let diff = diff_lines("", "x\ny");
        assert_eq!(render(&diff), ["+x", "+y"]);
    }

    #[test]
    fn huge_differing_middles_fall_back_to_remove_all_add_all() {
        let old: String = (0..2000).map(|n| format!("old {n}\n")).collect();
        let new: String = (0..2000).map(|n| format!("new {n}\n")).collect();
        let diff = diff_lines(&old, &new);
        assert_eq!(diff.len(), 4000);
        assert_eq!(diff[0].change, LineChange::Removed);
        assert_eq!(diff[3999].change, LineChange::Added);
    }
}
