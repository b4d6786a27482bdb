//! One period of nginx's smooth weighted round-robin, built in O(W log d).

/// One period of nginx's smooth weighted round-robin over `weights`: the server of each of
/// the W slots, W the sum of the weights (at least one weight, none zero, W at most
/// [`MAX_ROUND_ROBIN_SLOTS`](super::MAX_ROUND_ROBIN_SLOTS)).
///
/// nginx, at each step, adds every server's weight to its current weight, chooses the
/// largest (first in order on ties) and takes W from it: O(W × n) for a period. Two facts
/// make it O(W log d), d the number of distinct weights:
///
/// - Servers of equal weight are chosen in turn: the one chosen fewest times (first in order
///   on ties) has the largest current weight of its class. So only each class's next member
///   competes, and a class is one line: after s steps its next member's current weight is
///   s × weight − W × rounds, rounds the number of times the class went all the way round.
/// - Between two choices of a class its line only moves along its slope. A tournament tree
///   over the classes keeps, for each match, its winner and the step at which the loser
///   would overtake it (a kinetic tournament). A step replays only the matches whose time
///   has come and the path of the class just chosen; both are a few matches of O(log d).
pub(crate) fn smooth_order(weights: &[u64]) -> Vec<u32> {
    let Ok(total) = i64::try_from(weights.iter().sum::<u64>()) else {
        return Vec::new();
    };
    let mut race = Race::new(classes(weights));
    let mut order = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    for step in 1..=total {
        race.replay(1, step);
        let class = race.winner[1] as usize;
        order.push(race.classes[class].next_member());
        race.classes[class].chosen(total);
        race.replay_path(class, step);
    }
    order
}

/// The servers of one weight, in order.
struct Class {
    weight: i64,
    members: Vec<u32>,
    /// The place in `members` of the next member.
    at: usize,
    /// W × the times the class went all the way round.
    cut: i64,
}

impl Class {
    fn next_member(&self) -> u32 {
        self.members[self.at]
    }

    /// The current weight of the next member after `step` steps.
    fn current(&self, step: i64) -> i64 {
        step * self.weight - self.cut
    }

    /// Moves on to the next member, a round further when past the last.
    fn chosen(&mut self, total: i64) {
        self.at += 1;
        if self.at == self.members.len() {
            self.at = 0;
            self.cut += total;
        }
    }
}

/// The servers grouped by weight, each class's members in server order.
fn classes(weights: &[u64]) -> Vec<Class> {
    let mut by_weight: Vec<u32> = (0..weights.len() as u32).collect();
    by_weight.sort_by_key(|&i| weights[i as usize]); // stable: server order within a weight
    let mut classes: Vec<Class> = Vec::new();
    for i in by_weight {
        let weight = weights[i as usize] as i64;
        match classes.last_mut() {
            Some(c) if c.weight == weight => c.members.push(i),
            _ => classes.push(Class {
                weight,
                members: vec![i],
                at: 0,
                cut: 0,
            }),
        }
    }
    classes
}

const NOBODY: u32 = u32::MAX;
const NEVER: i64 = i64::MAX;

/// A kinetic tournament over the classes: node 1 is the final, node k's players are the
/// winners of nodes 2k and 2k + 1, and leaf `leaves + c` is class c.
struct Race {
    classes: Vec<Class>,
    leaves: usize,
    /// The class that wins each match.
    winner: Vec<u32>,
    /// The first step at which the match's loser would win it, were nothing else to change.
    due: Vec<i64>,
    /// The earliest `due` in the match's subtree, itself included.
    due_below: Vec<i64>,
}

impl Race {
    fn new(classes: Vec<Class>) -> Self {
        let leaves = classes.len().next_power_of_two();
        let mut race = Race {
            leaves,
            winner: vec![NOBODY; 2 * leaves],
            due: vec![NEVER; 2 * leaves],
            due_below: vec![NEVER; 2 * leaves],
            classes,
        };
        for c in 0..race.classes.len() {
            race.winner[leaves + c] = c as u32;
        }
        for node in (1..leaves).rev() {
            race.play(node, 0);
        }
        race
    }

    /// Plays the matches under `node` whose time has come at `step`, then `node` itself.
    fn replay(&mut self, node: usize, step: i64) {
        if node >= self.leaves || self.due_below[node] > step {
            return;
        }
        self.replay(2 * node, step);
        self.replay(2 * node + 1, step);
        self.play(node, step);
    }

    /// Plays the matches from class `class`'s leaf up to the final, at `step`.
    fn replay_path(&mut self, class: usize, step: i64) {
        let mut node = (self.leaves + class) / 2;
        while node > 0 {
            self.play(node, step);
            node /= 2;
        }
    }

    /// Plays match `node` at `step` between its children's winners.
    fn play(&mut self, node: usize, step: i64) {
        let (a, b) = (self.winner[2 * node], self.winner[2 * node + 1]);
        let (winner, due) = if b == NOBODY {
            (a, NEVER)
        } else {
            let (x, y) = (&self.classes[a as usize], &self.classes[b as usize]);
            let (cx, cy) = (x.current(step), y.current(step));
            let x_wins = cx > cy || (cx == cy && x.next_member() < y.next_member());
            let (w, l, gap) = if x_wins {
                (x, y, cx - cy)
            } else {
                (y, x, cy - cx)
            };
            // The loser gains `l.weight - w.weight` a step; weights of classes differ.
            let due = if l.weight < w.weight {
                NEVER
            } else {
                let gain = l.weight - w.weight;
                let steps = if l.next_member() < w.next_member() {
                    (gap + gain - 1) / gain // a tie goes to the loser
                } else {
                    gap / gain + 1
                };
                step.saturating_add(steps)
            };
            (if x_wins { a } else { b }, due)
        };
        self.winner[node] = winner;
        self.due[node] = due;
        self.due_below[node] = due
            .min(self.due_below[2 * node])
            .min(self.due_below[2 * node + 1]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// nginx's loop, as written in ngx_http_upstream_get_peer.
    fn nginx(weights: &[u64]) -> Vec<u32> {
        let total: i64 = weights.iter().map(|&w| w as i64).sum();
        let mut current = vec![0i64; weights.len()];
        (0..total)
            .map(|_| {
                let mut best = 0;
                for (i, &w) in weights.iter().enumerate() {
                    current[i] += w as i64;
                    if current[i] > current[best] {
                        best = i;
                    }
                }
                current[best] -= total;
                best as u32
            })
            .collect()
    }

    #[test]
    fn five_one_one() {
        assert_eq!(smooth_order(&[5, 1, 1]), [0, 0, 1, 0, 2, 0, 0]);
    }

    #[test]
    fn matches_nginx_step_for_step() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |bound: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            1 + x % bound
        };
        for case in 0..400 {
            let n = next(if case % 4 == 0 { 200 } else { 24 }) as usize;
            let top = [2, 5, 40, 1000][case % 4];
            let weights: Vec<u64> = (0..n).map(|_| next(top)).collect();
            assert_eq!(smooth_order(&weights), nginx(&weights), "{weights:?}");
        }
    }

    #[test]
    fn many_distinct_weights_match_nginx() {
        let weights: Vec<u64> = (1..=120).rev().chain(1..=60).collect();
        assert_eq!(smooth_order(&weights), nginx(&weights));
    }
}
