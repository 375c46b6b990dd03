// The runtime's type-level layers composed by hand: a convolution that
// expects 3 channels on a 1-channel image does not compile either.
use lenet::shape::consts::{U1, U10, U28, U3, U400, U5, U6};
use lenet::shape::{Conv2d, Flatten, Linear, SameShape, Shape1, Shape3, Stage};

type Image = Shape3<U1, U28, U28>;
type Net = (Conv2d<U3, U6, U5>, Flatten, Linear<U400, U10>);

#[allow(dead_code)]
fn proof()
where
    <Net as Stage<Image>>::Out: SameShape<Shape1<U10>>,
{
}

fn main() {}
