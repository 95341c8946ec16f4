//! An established session.
