//! "Did you mean": the nearest known word to a misspelt one.

/// The edit distance between `a` and `b` (insertions, deletions and
/// substitutions of characters).
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = i;
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let above = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let left = row.get(j).copied().unwrap_or(usize::MAX);
            let substitute = diagonal + usize::from(ca != *cb);
            let best = substitute
                .min(above.saturating_add(1))
                .min(left.saturating_add(1));
            diagonal = above;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = best;
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

/// The candidate `given` most likely meant: the same word in another case,
/// else one that starts with it (at least three letters), else the nearest
/// within a third of its length (at least one edit).
pub fn did_you_mean<'a>(given: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = given.to_lowercase();
    if let Some(c) = candidates.iter().find(|c| c.to_lowercase() == lower) {
        return Some(c);
    }
    if lower.chars().count() >= 3 {
        if let Some(c) = candidates
            .iter()
            .find(|c| c.to_lowercase().starts_with(&lower))
        {
            return Some(c);
        }
    }
    let limit = (lower.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (levenshtein(&lower, &c.to_lowercase()), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `a, b and c`.
pub fn english_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORDS: &[&str] = &[
        "Conv2d",
        "MaxPool2d",
        "AvgPool2d",
        "AdaptiveAvgPool2d",
        "Linear",
        "relu",
        "tanh",
        "sigmoid",
        "flatten",
    ];

    #[test]
    fn distances() {
        assert_eq!(levenshtein("", ""), 0);
        assert_eq!(levenshtein("abc", ""), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("linar", "linear"), 1);
        assert_eq!(levenshtein("pading", "padding"), 1);
        assert_eq!(levenshtein("×é", "é"), 1);
    }

    #[test]
    fn near_misses_are_found() {
        assert_eq!(did_you_mean("Conv2D", WORDS), Some("Conv2d"));
        assert_eq!(did_you_mean("conv2d", WORDS), Some("Conv2d"));
        assert_eq!(did_you_mean("Linar", WORDS), Some("Linear"));
        assert_eq!(did_you_mean("relU", WORDS), Some("relu"));
        assert_eq!(did_you_mean("ReLU", WORDS), Some("relu"));
        assert_eq!(did_you_mean("Flatten", WORDS), Some("flatten"));
        assert_eq!(did_you_mean("MaxPool", WORDS), Some("MaxPool2d"));
        assert_eq!(did_you_mean("Conv", WORDS), Some("Conv2d"));
        assert_eq!(did_you_mean("sigmod", WORDS), Some("sigmoid"));
        assert_eq!(
            did_you_mean(
                "pading",
                &[
                    "in_channels",
                    "out_channels",
                    "kernel_size",
                    "stride",
                    "padding"
                ]
            ),
            Some("padding")
        );
        assert_eq!(
            did_you_mean("kernel", &["kernel_size", "stride"]),
            Some("kernel_size")
        );
    }

    #[test]
    fn far_words_are_not_suggested() {
        assert_eq!(did_you_mean("BatchNorm2d", WORDS), None);
        assert_eq!(did_you_mean("x", WORDS), None);
        assert_eq!(did_you_mean("Dropout", WORDS), None);
    }

    #[test]
    fn lists_read_as_english() {
        assert_eq!(english_list(&[]), "");
        assert_eq!(english_list(&["a"]), "a");
        assert_eq!(english_list(&["a", "b"]), "a and b");
        assert_eq!(english_list(&["a", "b", "c"]), "a, b and c");
    }
}
