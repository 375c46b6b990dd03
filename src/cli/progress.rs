//! The progress bar of one epoch.

use super::fit::BatchProgress;
use indicatif::{ProgressBar, ProgressStyle};

/// A bar over the batches of an epoch, showing loss, running accuracy and
/// throughput. Hidden when stderr is not a terminal.
pub fn epoch_bar(epoch: usize, epochs: usize, batches: usize) -> ProgressBar {
    let bar = ProgressBar::new(batches as u64);
    let style = ProgressStyle::with_template("{prefix} [{bar:20.cyan/blue}] {pos:>4}/{len} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(format!("epoch {epoch}/{epochs}"));
    bar
}

/// Updates the bar after a batch.
pub fn update(bar: &ProgressBar, s: &BatchProgress) {
    bar.set_position(s.batch as u64);
    bar.set_message(format!(
        "loss {:.4} acc {:5.2} % {:>5.0} img/s",
        s.mean_loss,
        100.0 * s.accuracy,
        s.images_per_sec
    ));
}
