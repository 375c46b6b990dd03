//! Data sets: IDX files (MNIST, Fashion-MNIST), raw or gzip.
