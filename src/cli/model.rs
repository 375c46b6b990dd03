//! The network the binary trains: LeNet-5 on 32×32 inputs (MNIST's 28×28
//! padded by 2), with ReLU and max pooling, which train faster and reach a
//! better accuracy than the paper's scaled tanh and average pooling.

lenet::network! {
    /// LeNet-5 (LeCun et al. 1998) with ReLU and max pooling.
    pub struct LeNet5 {
        input: [1, 32, 32],
        conv1: Conv2d(1, 6, 5),
        relu,
        pool1: MaxPool2d(2, 2),
        conv2: Conv2d(6, 16, 5),
        relu,
        pool2: MaxPool2d(2, 2),
        flatten,
        fc1: Linear(16 * 5 * 5, 120),
        relu,
        fc2: Linear(120, 84),
        relu,
        fc3: Linear(84, 10),
    }
}
