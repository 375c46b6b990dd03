//! The summary table of a network, torchinfo style: each layer's type,
//! output shape, parameters and share of the total.

use core::fmt;

use crate::network::{LayerInfo, Network};

/// A network's summary; print it with `{}`. Builds nothing until printed,
/// so it needs no allocation.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    name: &'static str,
    input: [usize; 3],
    layers: &'static [LayerInfo],
    total: usize,
    /// Elements of the buffers (running statistics and counters).
    buffers: usize,
    scratch: Option<(usize, usize)>,
}

impl Summary {
    /// The summary of `N`.
    pub fn of<N: Network>() -> Self {
        Self {
            name: N::NAME,
            input: N::INPUT_SHAPE,
            layers: N::LAYERS,
            total: N::PARAM_COUNT,
            buffers: N::BUFFERS.iter().map(|b| b.len).sum(),
            scratch: None,
        }
    }

    /// The same summary with the memory plan's sizes: the floats of scratch
    /// the forward pass and a training pass work in per image (the
    /// generated `FORWARD_SCRATCH_FLOATS` and `TRAIN_SCRATCH_FLOATS`).
    pub fn with_scratch(self, forward: usize, train: usize) -> Self {
        Self {
            scratch: Some((forward, train)),
            ..self
        }
    }
}

/// Writes `[6, 28, 28]` as `6×28×28`.
struct Dims<'a>(&'a [usize]);

impl fmt::Display for Dims<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = Buf::new();
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                fmt::Write::write_str(&mut buf, "×")?;
            }
            fmt::Write::write_fmt(&mut buf, format_args!("{d}"))?;
        }
        f.pad(buf.as_str())
    }
}

/// Writes `61706` as `61,706`, without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thousands(pub usize);

impl fmt::Display for Thousands {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut digits = [0u8; 32];
        let mut n = self.0;
        let mut len = 0;
        loop {
            digits[len] = b'0' + (n % 10) as u8;
            len += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let mut buf = Buf::new();
        for i in (0..len).rev() {
            let c = [digits[i]];
            fmt::Write::write_str(&mut buf, core::str::from_utf8(&c).unwrap_or("?"))?;
            if i > 0 && i % 3 == 0 {
                fmt::Write::write_str(&mut buf, ",")?;
            }
        }
        f.pad(buf.as_str())
    }
}

/// A small stack buffer, so that padded columns need no allocation.
struct Buf {
    bytes: [u8; 128],
    len: usize,
}

impl Buf {
    fn new() -> Self {
        Self {
            bytes: [0; 128],
            len: 0,
        }
    }
    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

impl fmt::Write for Buf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > self.bytes.len() {
            return Err(fmt::Error);
        }
        self.bytes[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The first column fits the longest `name (kind)`.
        let label_of = |layer: &LayerInfo| -> Result<Buf, fmt::Error> {
            let mut label = Buf::new();
            if layer.name == layer.kind {
                fmt::Write::write_str(&mut label, layer.name)?;
            } else {
                fmt::Write::write_fmt(&mut label, format_args!("{} ({})", layer.name, layer.kind))
                    .or_else(|_| fmt::Write::write_str(&mut label, layer.name))?;
            }
            Ok(label)
        };
        let mut width = 34;
        for layer in self.layers {
            width = width.max(label_of(layer)?.as_str().chars().count());
        }
        let rule = "─".repeat_free(width + 39);
        writeln!(f, "{}", self.name)?;
        writeln!(f, "{rule}")?;
        writeln!(
            f,
            "{:<width$} {:>14} {:>12} {:>10}",
            "Layer (type)", "Output shape", "Param #", "Share"
        )?;
        writeln!(f, "{rule}")?;
        writeln!(f, "{:<width$} {:>14} {:>12}", "input", Dims(&self.input), 0)?;
        for layer in self.layers {
            let label = label_of(layer)?;
            write!(
                f,
                "{:<width$} {:>14} {:>12}",
                label.as_str(),
                Dims(layer.output),
                Thousands(layer.params)
            )?;
            if layer.params > 0 && self.total > 0 {
                let tenths =
                    (layer.params as u128 * 1000 + self.total as u128 / 2) / self.total as u128;
                write!(f, " {:>6}.{} %", tenths / 10, tenths % 10)?;
            }
            writeln!(f)?;
        }
        writeln!(f, "{rule}")?;
        writeln!(f, "Total params: {}", Thousands(self.total))?;
        writeln!(f, "Trainable params: {}", Thousands(self.total))?;
        writeln!(
            f,
            "Params size: {:.2} KiB (f32)",
            self.total as f64 * 4.0 / 1024.0
        )?;
        if self.buffers > 0 {
            writeln!(
                f,
                "Buffers (running statistics, not trained): {}",
                Thousands(self.buffers)
            )?;
        }
        let activations: usize = self
            .layers
            .iter()
            .map(|l| l.output.iter().product::<usize>())
            .sum();
        if let Some((forward, train)) = self.scratch {
            writeln!(
                f,
                "Forward scratch: {} floats ({:.2} KiB) per image, planned (activations: {})",
                Thousands(forward),
                forward as f64 * 4.0 / 1024.0,
                Thousands(activations)
            )?;
            writeln!(
                f,
                "Training scratch: {} floats ({:.2} KiB) per image, planned",
                Thousands(train),
                train as f64 * 4.0 / 1024.0
            )?;
        } else {
            writeln!(
                f,
                "Forward activations: {} floats ({:.2} KiB) per image",
                Thousands(activations),
                activations as f64 * 4.0 / 1024.0
            )?;
        }
        write!(f, "{rule}")
    }
}

/// `str::repeat` without allocation: a fixed rule of box-drawing lines.
trait RepeatFree {
    fn repeat_free(&self, n: usize) -> Rule;
}

impl RepeatFree for str {
    fn repeat_free(&self, n: usize) -> Rule {
        Rule(n)
    }
}

/// A horizontal rule of `n` characters.
struct Rule(usize);

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for _ in 0..self.0 {
            f.write_str("─")?;
        }
        Ok(())
    }
}
