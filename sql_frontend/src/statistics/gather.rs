//! Gathering statistics: the order in which to read a table's parts, a reservoir
//! sample of the rows read, and the column statistics computed from the sample (see
//! the module header in `mod.rs`). The reading itself is the caller's
//! (`exec/analyze.rs` reads the parts' stored rows a chunk at a time); it offers each
//! row to the [`Reservoir`] and decodes only those the sample keeps.

use engine::keycode::{ColumnOrder, KeyValue, encode_value_into};

use super::{ColumnStats, MAX_HISTOGRAM_BOUNDS, MAX_MCV, MAX_STORED_VALUE, TableStats};

/// The reservoir's size: PostgreSQL samples 300 rows per unit of its statistics target
/// (100), which bounds the error of the histogram's bucket fractions whatever the
/// table's size.
pub const SAMPLE_ROWS: usize = 30_000;

/// The parts a table is cut into for reading a sample of it (at the tree's separators,
/// so parts hold about equally many leaves): fine enough that the rows read come from
/// many places in the table (a part of a million-row table is a few hundred rows),
/// few enough that cutting costs little beside the reading (one descent per cut).
pub const SAMPLE_PARTS: usize = 4096;

/// Rows read before a sampled read stops, a whole part at a time: twice the sample, so
/// that the sample is thinned from the rows read rather than being all of them. A
/// table of fewer rows is read whole, and its statistics are exact.
pub const SAMPLE_READ_ROWS: u64 = 2 * SAMPLE_ROWS as u64;

/// Seeds the order of the parts apart from the reservoir's own random numbers.
const PART_ORDER_SEED: u64 = 0x7061_7274_735f_6f72;

/// Bytes a row costs beyond its values (slot, lengths, key prefix), for the page count.
const ROW_OVERHEAD: f64 = 8.0;

/// A value is "common" when its sample count exceeds the average count of the column's
/// values by this factor (PostgreSQL's rule in `compute_scalar_stats`).
const MCV_OVER_AVERAGE: f64 = 1.25;

/// A small, seeded pseudo-random generator (SplitMix64): the sample depends only on
/// the seed, so ANALYZE of the same data gives the same statistics.
#[derive(Debug)]
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (bound > 0; the modulo bias is below 2^-40 for our sizes).
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}

fn seed(name: &str) -> u64 {
    // FNV-1a over the name.
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The order in which to read the `parts` of table `name`: a random permutation
/// (Fisher and Yates), seeded by the name, so the same table is sampled the same way.
pub fn part_order(name: &str, parts: usize) -> Vec<usize> {
    let mut rng = SplitMix(seed(name) ^ PART_ORDER_SEED);
    let mut order: Vec<usize> = (0..parts).collect();
    for i in (1..parts).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    order
}

/// A reservoir sample of a table's rows while they are read (Vitter's algorithm R):
/// each row is offered in turn, and only a row that enters the sample has to be
/// decoded, so a pass over a large table decodes about `SAMPLE_ROWS * (1 + ln(rows /
/// SAMPLE_ROWS))` rows, not all of them.
#[derive(Debug)]
pub struct Reservoir {
    rng: SplitMix,
    sample: Vec<Vec<KeyValue>>,
    total: u64,
}

impl Reservoir {
    /// An empty sample of table `name` (the name seeds its random numbers).
    pub fn new(name: &str) -> Reservoir {
        Reservoir {
            rng: SplitMix(seed(name)),
            sample: Vec::new(),
            total: 0,
        }
    }

    /// Counts the next row; the slot it takes in the sample if it enters it (the
    /// caller then hands it to [`Reservoir::put`]), `None` if it does not.
    pub fn offer(&mut self) -> Option<usize> {
        self.total += 1;
        if self.sample.len() < SAMPLE_ROWS {
            return Some(self.sample.len());
        }
        // Row number `total` replaces a sampled row with probability SAMPLE_ROWS / total.
        let slot = self.rng.below(self.total) as usize;
        (slot < self.sample.len()).then_some(slot)
    }

    /// The rows offered so far.
    pub fn offered(&self) -> u64 {
        self.total
    }

    /// Puts the row that [`Reservoir::offer`] gave `slot` into the sample.
    pub fn put(&mut self, slot: usize, row: Vec<KeyValue>) {
        match self.sample.get_mut(slot) {
            Some(kept) => *kept = row,
            None => self.sample.push(row),
        }
    }

    /// Statistics of the rows offered, for the columns at `positions`, the rows filling
    /// pages of `page_size` bytes.
    pub fn finish(self, positions: &[usize], page_size: usize) -> TableStats {
        self.finish_parts(1, 1, positions, page_size)
    }

    /// [`Reservoir::finish`] for rows offered from `read` of the `parts` (of about equal
    /// size) a table was cut into: the table's rows are estimated as the rows offered
    /// scaled by `parts / read`, and the sample holds the whole table only if every
    /// part was read.
    pub fn finish_parts(
        self,
        read: usize,
        parts: usize,
        positions: &[usize],
        page_size: usize,
    ) -> TableStats {
        let Reservoir { sample, total, .. } = self;
        let every_part = read >= parts;
        let whole = every_part && sample.len() as u64 == total;
        let mut scratch = Vec::new();
        let row_width = match sample.is_empty() {
            true => 0.0,
            false => {
                let bytes: usize = sample
                    .iter()
                    .map(|row| row.iter().map(|v| width(v, &mut scratch)).sum::<usize>())
                    .sum();
                bytes as f64 / sample.len() as f64
            }
        };
        let rows = match every_part {
            true => total as f64,
            false => (total as f64 * parts as f64 / read.max(1) as f64).round(),
        };
        let pages = (rows * (row_width + ROW_OVERHEAD) / page_size.max(1) as f64).ceil();
        let columns = positions
            .iter()
            .map(|&position| column_stats(position, &sample, rows, whole))
            .collect();
        TableStats {
            rows,
            pages,
            columns,
        }
    }
}

/// A value's encoded width in bytes (`scratch` is reused between calls).
fn width(value: &KeyValue, scratch: &mut Vec<u8>) -> usize {
    scratch.clear();
    encode_value_into(scratch, value, ColumnOrder::ASC);
    scratch.len()
}

/// The statistics of column `position` from `sample`, drawn from `rows` rows (`whole`:
/// the sample is every row).
///
/// The column's non-NULL values are sorted once; equal values are then neighbours, so
/// one pass counts each distinct value (in value order, as the histogram wants them)
/// and the most common values are picked from those seen at least twice.
fn column_stats(position: usize, sample: &[Vec<KeyValue>], rows: f64, whole: bool) -> ColumnStats {
    let n = sample.len();
    let mut scratch = Vec::new();
    let mut values: Vec<&KeyValue> = sample
        .iter()
        .filter_map(|row| row.get(position).filter(|v| !v.is_null()))
        .collect();
    let widths: usize = values.iter().map(|v| width(v, &mut scratch)).sum();
    let non_null = values.len();
    let nulls = n - non_null;
    let null_fraction = match n {
        0 => 0.0,
        _ => nulls as f64 / n as f64,
    };
    let average_width = match non_null {
        0 => 0.0,
        _ => widths as f64 / non_null as f64,
    };
    values.sort_unstable();
    // Each distinct value with its count, in value order.
    let mut counted: Vec<(&KeyValue, usize)> = Vec::new();
    for value in values {
        match counted.last_mut() {
            Some((last, count)) if *last == value => *count += 1,
            _ => counted.push((value, 1)),
        }
    }
    let d = counted.len();
    let singles = counted.iter().filter(|(_, c)| *c == 1).count();
    let distinct = distinct_estimate(n, d, singles, rows, null_fraction, whole);

    // Values too wide to store count towards `distinct` only.
    counted.retain(|(v, _)| width(v, &mut scratch) <= MAX_STORED_VALUE);
    // The most common values: every distinct value when the sample seems to hold them
    // all, otherwise those counted at least twice and clearly above the average count.
    let list_all = d <= MAX_MCV && (whole || singles == 0);
    let average = non_null as f64 / d.max(1) as f64;
    let common = |c: usize| list_all || (c >= 2 && c as f64 > MCV_OVER_AVERAGE * average);
    let mut picked: Vec<usize> = (0..counted.len())
        .filter(|&i| common(counted[i].1))
        .collect();
    // Most common first; equal counts in value order (a stable sort of value-ordered
    // positions), so the result is deterministic.
    picked.sort_by(|&a, &b| counted[b].1.cmp(&counted[a].1));
    picked.truncate(match list_all {
        true => picked.len(),
        false => MAX_MCV,
    });
    let mcv: Vec<(KeyValue, f64)> = picked
        .iter()
        .map(|&i| (counted[i].0.clone(), counted[i].1 as f64 / n.max(1) as f64))
        .collect();
    let mut in_mcv = vec![false; counted.len()];
    for &i in &picked {
        in_mcv[i] = true;
    }
    let rest: Vec<(&KeyValue, usize)> = counted
        .iter()
        .zip(&in_mcv)
        .filter(|(_, in_mcv)| !**in_mcv)
        .map(|(entry, _)| *entry)
        .collect();
    ColumnStats {
        position,
        null_fraction,
        distinct,
        average_width,
        mcv,
        histogram: histogram(&rest),
    }
}

/// Haas and Stokes' estimate of the distinct non-NULL values of a column with `rows`
/// rows from a sample of `n` rows holding `d` distinct values, `singles` of them once.
fn distinct_estimate(
    n: usize,
    d: usize,
    singles: usize,
    rows: f64,
    null_fraction: f64,
    whole: bool,
) -> f64 {
    if whole || d == 0 {
        return d as f64;
    }
    let non_null_rows = (rows * (1.0 - null_fraction)).max(d as f64);
    if singles == d {
        // Every sampled value is unique: assume the column is (PostgreSQL does too).
        return non_null_rows;
    }
    let (n, d, f1) = (n as f64, d as f64, singles as f64);
    let estimate = n * d / ((n - f1) + f1 * n / rows);
    estimate.clamp(d, non_null_rows)
}

/// Equi-depth bounds over `values` (ascending, each with its sample count): the values
/// at evenly spaced positions of the sampled rows in order, first and last included,
/// so each bucket holds about as many sampled rows as the next.
fn histogram(values: &[(&KeyValue, usize)]) -> Vec<KeyValue> {
    if values.len() < 2 {
        return Vec::new();
    }
    let flat: Vec<&KeyValue> = values
        .iter()
        .flat_map(|(v, c)| std::iter::repeat_n(*v, *c))
        .collect();
    let m = flat.len();
    let bounds = MAX_HISTOGRAM_BOUNDS.min(values.len());
    let mut out: Vec<KeyValue> = Vec::with_capacity(bounds);
    for i in 0..bounds {
        let value = flat[i * (m - 1) / (bounds - 1)];
        if out.last() != Some(value) {
            out.push(value.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(values: impl Iterator<Item = i64>) -> Vec<engine::Result<Vec<KeyValue>>> {
        values.map(|v| Ok(vec![KeyValue::Int(v)])).collect()
    }

    /// Statistics of `rows`, every row offered to the reservoir.
    fn gather(
        name: &str,
        rows: impl Iterator<Item = engine::Result<Vec<KeyValue>>>,
        positions: &[usize],
        page_size: usize,
    ) -> engine::Result<TableStats> {
        let mut sample = Reservoir::new(name);
        for row in rows {
            let row = row?;
            if let Some(slot) = sample.offer() {
                sample.put(slot, row);
            }
        }
        Ok(sample.finish(positions, page_size))
    }

    #[test]
    fn a_small_table_is_counted_exactly() {
        let stats =
            gather("t", rows((0..1000).map(|i| i % 10)).into_iter(), &[0], 4096).expect("gather");
        assert_eq!(stats.rows, 1000.0);
        let c = &stats.columns[0];
        assert_eq!(c.distinct, 10.0);
        assert_eq!(c.mcv.len(), 10);
        assert!(c.histogram.is_empty());
        assert!((c.equal_fraction(&KeyValue::Int(3)) - 0.1).abs() < 1e-9);
    }

    #[test]
    fn a_unique_column_gets_a_histogram_and_no_mcv() {
        let stats = gather("t", rows(0..5000).into_iter(), &[0], 4096).expect("gather");
        let c = &stats.columns[0];
        assert!(c.mcv.is_empty());
        assert_eq!(c.histogram.len(), MAX_HISTOGRAM_BOUNDS);
        assert_eq!(c.histogram.first(), Some(&KeyValue::Int(0)));
        assert_eq!(c.histogram.last(), Some(&KeyValue::Int(4999)));
        let below = c.below_fraction(&KeyValue::Int(1000), false);
        assert!((below - 0.2).abs() < 0.01, "{below}");
    }

    #[test]
    fn a_large_table_is_sampled() {
        let n = (SAMPLE_ROWS * 3) as i64;
        let stats = gather("t", rows(0..n).into_iter(), &[0], 4096).expect("gather");
        assert_eq!(stats.rows, n as f64);
        let c = &stats.columns[0];
        assert_eq!(c.distinct, n as f64);
        let below = c.below_fraction(&KeyValue::Int(n / 2), false);
        assert!((below - 0.5).abs() < 0.02, "{below}");
    }
}
