//! Work spread over the machine's cores, for checks that are independent
//! of each other (signature verification above all) and whose results are
//! then read in order.

use std::num::NonZeroUsize;

/// Below this many items per thread, another thread costs more than it
/// saves (a strict Ed25519 verification takes about 50 µs here, starting a
/// thread a few).
const LEAST_PER_THREAD: usize = 16;

/// Whether `n` items would be spread over more than one thread.
pub fn worth_spreading(n: usize) -> bool {
    threads_for(n) > 1
}

fn threads_for(n: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    cores.min(n / LEAST_PER_THREAD).max(1)
}

/// `f(index, item)` for every item, spread over the available cores;
/// results in the items' order.
pub fn map<T, R, F>(items: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(usize, &T) -> R + Sync,
{
    let threads = threads_for(items.len());
    if threads == 1 {
        return items.iter().enumerate().map(|(i, t)| f(i, t)).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let parts: Vec<_> = items
            .chunks(chunk)
            .enumerate()
            .map(|(c, part)| {
                scope.spawn(move || {
                    part.iter()
                        .enumerate()
                        .map(|(i, t)| f(c * chunk + i, t))
                        .collect::<Vec<R>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|p| p.join().expect("a parallel check does not panic"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_keep_the_items_order_and_indexes() {
        for n in [0, 1, 63, 64, 65, 1000, 4097] {
            let items: Vec<usize> = (0..n).collect();
            let out = super::map(&items, |i, &x| (i, x * 2));
            assert_eq!(out, (0..n).map(|x| (x, x * 2)).collect::<Vec<_>>());
        }
    }
}
