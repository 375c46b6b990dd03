//! A `#![no_std]` crate classifying digits with a generated network.
#![no_std]
