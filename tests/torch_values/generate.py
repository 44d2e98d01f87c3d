"""Writes tests/torch_values/mod.rs: PyTorch's values for the loss tests.

Not run by CI (the tests read the literals it wrote). To regenerate:
    python3 -m venv /root/venv-torch && /root/venv-torch/bin/pip install torch numpy
    /root/venv-torch/bin/python tests/torch_values/generate.py > tests/torch_values/mod.rs
Everything is float64; each gradient is d(loss)/d(logits) for a grad_output of
ones (one per loss for reduction "none", a 0-d 1 otherwise).
"""
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

X = [1.5, -0.3, 0.2, 2.0, 0.0, 1e4, -1e4, 3.0, -2.0, -1.0, 0.5, 0.25]
Y = [3, 1, -100]
W = [0.5, 2.0, 1.0, 3.0]
# [N=2, C=3, d1=2, d2=2], labels [2, 2, 2] with one ignored.
XN = [((i * 7 % 11) - 5) * 0.3 for i in range(24)]
YN = [0, 2, 1, -100, 2, 2, 0, 1]
WN = [1.5, 0.25, 2.0]
# Class-probability targets: rows of X's shape, one a one-hot.
T = [0.1, 0.2, 0.3, 0.4, 0.25, 0.25, 0.5, 0.0, 1.0, 0.0, 0.0, 0.0]
# For XN: ((i*5 % 7) + 1) normalized over the classes (dim 1).
TN = torch.tensor([float((i * 5 % 7) + 1) for i in range(24)]).view(2, 3, 2, 2)
TN = (TN / TN.sum(1, keepdim=True)).flatten().tolist()
# Unbatched: one [C] row, a 0-d label, a [C] target.
X0 = [1.5, -0.3, 0.2, 2.0]
Y0 = 2
T0 = [0.1, 0.2, 0.3, 0.4]
# The trap: the tutorial's probabilities y_hat, given as logits.
XL = [0.1, 0.3, 0.6, 0.3, 0.2, 0.5]
YL = [0, 2]


def lit(v):
    return repr(float(v))


def arr(name, vals, ty="f64"):
    body = ", ".join(lit(v) if ty == "f64" else str(int(v)) for v in vals)
    return f"pub const {name}: [{ty}; {len(vals)}] = [{body}];"


def case(x, shape, target, weight, reduction, eps, probs=False):
    x = torch.tensor(x).view(shape).requires_grad_()
    if probs:
        t = torch.tensor(target).view(shape)
    else:
        t = torch.tensor(target, dtype=torch.int64).view([s for i, s in enumerate(shape) if i != (1 if len(shape) > 1 else 0)])
    w = None if weight is None else torch.tensor(weight)
    loss = F.cross_entropy(x, t, weight=w, reduction=reduction, label_smoothing=eps)
    loss.backward(torch.ones_like(loss))
    red = {"none": "None", "mean": "Mean", "sum": "Sum"}[reduction]
    vals = ", ".join(lit(v) for v in loss.detach().flatten().tolist())
    grad = ", ".join(lit(v) for v in x.grad.flatten().tolist())
    return (
        f"    Case {{ reduction: Reduction::{red}, smoothing: {lit(eps)}, weighted: {str(weight is not None).lower()}, "
        f"loss: &[{vals}], grad: &[{grad}] }},"
    )


def cases(name, x, shape, target, weight, probs=False):
    print(f"pub const {name}: &[Case] = &[")
    for w in [None, weight]:
        for eps in [0.0, 0.2]:
            for red in ["none", "mean", "sum"]:
                print(case(x, shape, target, w, red, eps, probs))
    print("];")


print("//! PyTorch's values for tests/loss.rs, written by generate.py (torch "
      + torch.__version__.split("+")[0] + ", float64). Do not edit by hand.")
print()
print("#![allow(dead_code, clippy::excessive_precision, clippy::unreadable_literal)]")
print()
print("use fastgather::loss::Reduction;")
print()
print("/// One call: its options, torch's loss (flattened) and gradient (flattened).")
print("pub struct Case {")
print("    pub reduction: Reduction,")
print("    pub smoothing: f64,")
print("    pub weighted: bool,")
print("    pub loss: &'static [f64],")
print("    pub grad: &'static [f64],")
print("}")
print()
for line in [arr("X", X), arr("Y", Y, "i64"), arr("W", W), arr("XN", XN), arr("YN", YN, "i64"),
             arr("WN", WN), arr("T", T), arr("TN", TN), arr("X0", X0), arr("T0", T0), arr("XL", XL),
             arr("YL", YL, "i64")]:
    print(line)
print(f"pub const Y0: i64 = {Y0};")
print()
print("/// `[3, 4]` logits X, labels Y (one ignored), weight W.")
cases("WEIGHTED", X, [3, 4], Y, W)
print("/// `[2, 3, 2, 2]` logits XN, labels YN `[2, 2, 2]` (one ignored), weight WN.")
cases("ND", XN, [2, 3, 2, 2], YN, WN)
print("/// `[3, 4]` logits X, class-probability targets T, weight W.")
cases("PROBS", X, [3, 4], T, W, probs=True)
print("/// `[2, 3, 2, 2]` logits XN, class-probability targets TN, weight WN.")
cases("PROBS_ND", XN, [2, 3, 2, 2], TN, WN, probs=True)
print("/// Unbatched: `[4]` logits X0, a 0-d label Y0, weight W.")
cases("UNBATCHED", X0, [4], [Y0], W)
print("/// Unbatched: `[4]` logits X0, a `[4]` target T0, weight W.")
cases("UNBATCHED_PROBS", X0, [4], T0, W, probs=True)
xl = torch.tensor(XL).view(2, 3)
print("/// `F.cross_entropy(XL, YL)`: the tutorial's probabilities read as logits.")
print(f"pub const LOGITS_MEAN: f64 = {lit(F.cross_entropy(xl, torch.tensor(YL)).item())};")
print(f"pub const LOGITS_NONE: [f64; 2] = [{', '.join(lit(v) for v in F.cross_entropy(xl, torch.tensor(YL), reduction='none').tolist())}];")
