//! A small vector that keeps up to `N` elements inline: shapes, strides and plan
//! axes of every realistic rank without a heap allocation, and a clone that is
//! one copy (the per-call overhead of a tiny gather is mostly such bookkeeping).

use std::ops::{Deref, DerefMut};

/// Up to `N` `Copy` elements inline, more on the heap.
#[derive(Clone)]
pub(crate) enum InlineVec<T: Copy + Default, const N: usize> {
    Inline { len: usize, buf: [T; N] },
    Heap(Vec<T>),
}

impl<T: Copy + Default, const N: usize> InlineVec<T, N> {
    /// An empty vector.
    #[inline]
    pub(crate) fn new() -> Self {
        Self::Inline {
            len: 0,
            buf: [T::default(); N],
        }
    }

    /// `n` copies of `value`.
    #[inline]
    pub(crate) fn from_elem(value: T, n: usize) -> Self {
        if n <= N {
            Self::Inline {
                len: n,
                buf: [value; N],
            }
        } else {
            Self::Heap(vec![value; n])
        }
    }

    /// Appends `value`.
    #[inline]
    pub(crate) fn push(&mut self, value: T) {
        match self {
            Self::Inline { len, buf } if *len < N => {
                buf[*len] = value;
                *len += 1;
            }
            Self::Inline { len, buf } => {
                let mut v = buf[..*len].to_vec();
                v.push(value);
                *self = Self::Heap(v);
            }
            Self::Heap(v) => v.push(value),
        }
    }

    /// Removes and returns the last element.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<T> {
        match self {
            Self::Inline { len: 0, .. } => None,
            Self::Inline { len, buf } => {
                *len -= 1;
                Some(buf[*len])
            }
            Self::Heap(v) => v.pop(),
        }
    }

    /// Inserts `value` at `at <= len`.
    pub(crate) fn insert(&mut self, at: usize, value: T) {
        let mut v = self.to_vec();
        v.insert(at, value);
        *self = v.as_slice().into();
    }
}

impl<T: Copy + Default, const N: usize> Deref for InlineVec<T, N> {
    type Target = [T];
    #[inline]
    fn deref(&self) -> &[T] {
        match self {
            Self::Inline { len, buf } => &buf[..*len],
            Self::Heap(v) => v,
        }
    }
}

impl<T: Copy + Default, const N: usize> DerefMut for InlineVec<T, N> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [T] {
        match self {
            Self::Inline { len, buf } => &mut buf[..*len],
            Self::Heap(v) => v,
        }
    }
}

impl<'a, T: Copy + Default, const N: usize> IntoIterator for &'a InlineVec<T, N> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    #[inline]
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T: Copy + Default, const N: usize> From<&[T]> for InlineVec<T, N> {
    #[inline]
    fn from(items: &[T]) -> Self {
        if items.len() <= N {
            let mut buf = [T::default(); N];
            buf[..items.len()].copy_from_slice(items);
            Self::Inline {
                len: items.len(),
                buf,
            }
        } else {
            Self::Heap(items.to_vec())
        }
    }
}

impl<T: Copy + Default, const N: usize> FromIterator<T> for InlineVec<T, N> {
    #[inline]
    fn from_iter<It: IntoIterator<Item = T>>(items: It) -> Self {
        let mut v = Self::new();
        for x in items {
            v.push(x);
        }
        v
    }
}

impl<T: Copy + Default + std::fmt::Debug, const N: usize> std::fmt::Debug for InlineVec<T, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: Copy + Default + PartialEq, const N: usize> PartialEq for InlineVec<T, N> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Copy + Default + Eq, const N: usize> Eq for InlineVec<T, N> {}

#[cfg(test)]
mod tests {
    use super::InlineVec;

    #[test]
    fn spills_to_the_heap_and_back_to_slices() {
        let mut v: InlineVec<usize, 2> = InlineVec::new();
        for k in 0..5 {
            v.push(k);
        }
        assert_eq!(&*v, &[0, 1, 2, 3, 4]);
        assert_eq!(v.pop(), Some(4));
        v.insert(0, 9);
        assert_eq!(&*v, &[9, 0, 1, 2, 3]);
        let w: InlineVec<usize, 2> = [1usize, 2].as_slice().into();
        assert_eq!(w.clone(), w);
        assert_eq!(InlineVec::<u8, 3>::from_elem(7, 4).len(), 4);
        let mut e: InlineVec<u8, 3> = InlineVec::new();
        assert_eq!(e.pop(), None);
    }
}
