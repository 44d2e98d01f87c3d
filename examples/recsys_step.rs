//! A small recommendation model trained with embedding bags: each user is the
//! mean of the item embeddings in their history (`embedding_bag`, mode mean),
//! scored against a candidate item's embedding (`embedding`) by a dot
//! product, with a logistic loss. The gradients come from
//! `embedding_bag_backward` and `embedding_backward`; plain SGD updates both
//! tables. Synthetic data: items belong to one of a few topics, users click
//! items of the topic their history is mostly from.
//!
//!     cargo run --release --example recsys_step

use fastgather::{
    BagMode, Bags, TensorView, embedding, embedding_backward, embedding_bag, embedding_bag_backward,
};

const ITEMS: usize = 512;
const DIM: usize = 32;
const TOPICS: usize = 8;
const USERS: usize = 1_024;
const HISTORY: usize = 20;
const STEPS: usize = 100;
const LR: f32 = 200.0;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    }
}

/// One batch: users' histories (bags cut at offsets), a candidate per user
/// and whether the user clicked it.
struct Batch {
    history: Vec<i64>,
    offsets: Vec<i64>,
    candidates: Vec<i64>,
    clicked: Vec<f32>,
}

fn batch(rng: &mut Rng) -> Batch {
    let topic_of = |item: usize| item % TOPICS;
    let item_in = |rng: &mut Rng, topic: usize| (rng.below(ITEMS / TOPICS) * TOPICS + topic) as i64;
    let mut b = Batch {
        history: Vec::new(),
        offsets: Vec::new(),
        candidates: Vec::new(),
        clicked: Vec::new(),
    };
    for _ in 0..USERS {
        let taste = rng.below(TOPICS);
        b.offsets.push(b.history.len() as i64);
        // Histories vary in length (some are empty): most items of the taste.
        for _ in 0..rng.below(HISTORY + 1) {
            let topic = if rng.below(4) == 0 {
                rng.below(TOPICS)
            } else {
                taste
            };
            let item = item_in(rng, topic);
            b.history.push(item);
        }
        // Half the candidates are of the user's taste.
        let topic = if rng.below(2) == 0 {
            taste
        } else {
            rng.below(TOPICS)
        };
        let candidate = item_in(rng, topic);
        b.candidates.push(candidate);
        b.clicked.push(if topic_of(candidate as usize) == taste {
            1.0
        } else {
            0.0
        });
    }
    b
}

fn main() -> Result<(), fastgather::GatherError> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut users: Vec<f32> = (0..ITEMS * DIM).map(|_| rng.unit()).collect();
    let mut items: Vec<f32> = (0..ITEMS * DIM).map(|_| rng.unit()).collect();
    let held_out = batch(&mut rng);
    let mut first_loss = None;
    for step in 0..=STEPS {
        let b = if step == STEPS {
            &held_out
        } else {
            &batch(&mut rng)
        };
        let history = TensorView::new(&b.history, &[b.history.len()])?;
        let offsets = TensorView::new(&b.offsets, &[USERS])?;
        let bags = Bags::with_offsets(&history, &offsets).mode(BagMode::Mean);
        let user_table = TensorView::new(&users, &[ITEMS, DIM])?;
        let item_table = TensorView::new(&items, &[ITEMS, DIM])?;
        let candidates = TensorView::new(&b.candidates, &[USERS])?;

        // Forward: pooled users, candidate items, their dot products.
        let u = embedding_bag(&user_table, &bags)?;
        let v = embedding(&item_table, &candidates)?;
        let (mut loss, mut correct) = (0.0f32, 0);
        let mut grad_u = vec![0.0f32; USERS * DIM];
        let mut grad_v = vec![0.0f32; USERS * DIM];
        for n in 0..USERS {
            let (un, vn) = (
                &u.as_slice()[n * DIM..][..DIM],
                &v.as_slice()[n * DIM..][..DIM],
            );
            let score: f32 = un.iter().zip(vn).map(|(a, b)| a * b).sum();
            let p = 1.0 / (1.0 + (-score).exp());
            let y = b.clicked[n];
            loss -= y * p.max(1e-7).ln() + (1.0 - y) * (1.0 - p).max(1e-7).ln();
            correct += usize::from((p > 0.5) == (y > 0.5));
            // d loss / d score, averaged over the batch.
            let g = (p - y) / USERS as f32;
            for j in 0..DIM {
                grad_u[n * DIM + j] = g * vn[j];
                grad_v[n * DIM + j] = g * un[j];
            }
        }
        loss /= USERS as f32;
        first_loss.get_or_insert(loss);
        if step == STEPS {
            println!(
                "held out: loss {loss:.4}, accuracy {:.1}% (first training batch: loss {:.4})",
                100.0 * correct as f32 / USERS as f32,
                first_loss.unwrap_or(loss)
            );
            break;
        }
        if step % 20 == 0 {
            println!("step {step:3}: loss {loss:.4}");
        }

        // Backward and SGD.
        let grad_u = TensorView::new(&grad_u, &[USERS, DIM])?;
        let grad_v = TensorView::new(&grad_v, &[USERS, DIM])?;
        let gu = embedding_bag_backward(&user_table, &bags, &grad_u)?.weight;
        let gv = embedding_backward(&grad_v, &candidates, ITEMS, None)?;
        for (w, g) in users.iter_mut().zip(gu.as_slice()) {
            *w -= LR * g;
        }
        for (w, g) in items.iter_mut().zip(gv.as_slice()) {
            *w -= LR * g;
        }
    }
    Ok(())
}
