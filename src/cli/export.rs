//! `lenet export`: saved weights to the raw little-endian form.

use lenet::weights::save_le_bytes;

use super::args::ExportArgs;
use super::meta;
use super::model::LeNet5;
use super::CliError;

/// Loads safetensors weights and writes them raw, atomically.
pub fn run(a: &ExportArgs) -> Result<(), CliError> {
    let (net, _) = meta::load::<LeNet5>(&a.weights)?;
    save_le_bytes(&net, &a.out)?;
    println!(
        "wrote {} parameters ({} bytes, little-endian f32 in PyTorch's order) to {}",
        LeNet5::PARAM_COUNT,
        LeNet5::LE_BYTES,
        a.out.display()
    );
    Ok(())
}
