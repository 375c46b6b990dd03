// The runtime's type-level layers composed by hand: the chain fits, but
// it gives 16×4×4 = 256 features where 400 are declared (a 28×28 image
// without padding).
use lenet::shape::consts::{U1, U16, U2, U28, U400, U5, U6};
use lenet::shape::{AvgPool2d, Conv2d, Flatten, SameShape, Shape1, Shape3, Stage};

type Image = Shape3<U1, U28, U28>;
type Features = (Conv2d<U1, U6, U5>, AvgPool2d<U2>, Conv2d<U6, U16, U5>, AvgPool2d<U2>, Flatten);

#[allow(dead_code)]
fn proof()
where
    <Features as Stage<Image>>::Out: SameShape<Shape1<U400>>,
{
}

fn main() {}
