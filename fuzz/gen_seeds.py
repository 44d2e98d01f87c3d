#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/seeds/<target>/.

Each seed is encoded in the byte format the target's decoder reads (documented
on `Case::arbitrary` in fuzz_targets/*.rs and on `common::layout`), so it
decodes to exactly the case named here. Check a seed with
    cargo +nightly fuzz fmt <target> fuzz/seeds/<target>/<file>
Re-run this script after changing a decoder: python3 fuzz/gen_seeds.py

Files named regress_* are inputs the fuzzers found (crashes since fixed, see
tests/fuzz_regressions.rs), kept as seeds so every run replays them first.
Those written below were re-created here from the case they decode to when a
decoder changed; any other regress_* file is left alone, so after changing a
decoder re-check them with `cargo fuzz fmt` and add them here if needed.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

SIZE_TABLE = [6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 23, 24, 25, 31, 32, 33, 63, 64, 65,
              127, 128, 129, 255, 256, 257, 1023, 1024, 4096, 4097]

I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1


def u16(x):
    return struct.pack("<H", x)


def i64(x):
    return struct.pack("<q", x)


def u64(x):
    return struct.pack("<Q", x & ((1 << 64) - 1))


def u128(x):
    return (x & ((1 << 128) - 1)).to_bytes(16, "little")


# ---- common::size_from -------------------------------------------------------

def size(n, wide=False):
    """Size byte(s) for n, preferring the compact codes."""
    if 1 <= n <= 5:
        return bytes([n - 1])
    return size_big(n, wide)


def size_big(n, wide=False):
    """Size byte(s) for n using only codes >= 200 (needed where a lower byte
    means something else)."""
    if n == 0:
        return bytes([200])
    if n in SIZE_TABLE:
        return bytes([210 + SIZE_TABLE.index(n)])
    if n < 1 << 16:
        return bytes([240]) + u16(n)
    assert wide
    return bytes([255]) + u64(n)


# ---- common::layout ----------------------------------------------------------

def fisher_yates_bytes(order):
    """Bytes that make the decoder's Fisher-Yates shuffle of 0..r produce `order`."""
    cur = list(range(len(order)))
    out = []
    for i in range(len(order) - 1, 0, -1):
        j = cur.index(order[i])
        assert j <= i
        cur[i], cur[j] = cur[j], cur[i]
        out.append(j)
    assert cur == list(order)
    return bytes(out)


def layout(shape, order=None, pads=None, small=None, raw=None, flip=0, zero=0,
           extra=None, slack=0, raw_offset=None, length=None, cap=1 << 18):
    """Returns (bytes, strides, offset, len) exactly as common::layout decodes them."""
    rank = len(shape)
    m = 0
    tail = b""
    if raw is not None:
        m, tail = 15, b"".join(i64(s) for s in raw)
        strides = list(raw)
    elif small is not None:
        m, tail = 14, bytes((s + 8) for s in small)
        strides = list(small)
    else:
        permuted = order is not None
        padded = pads is not None
        m = {(False, False): 0, (True, False): 8, (False, True): 10, (True, True): 12}[(permuted, padded)]
        order = list(order) if permuted else list(range(rank))
        if permuted:
            tail += fisher_yates_bytes(order)
        if padded:
            tail += bytes(pads)
        strides = [0] * rank
        running = 1
        for n, axis in enumerate(reversed(order)):
            pad = pads[axis] if padded else 0
            if padded and n == 0:
                running *= 1 + ((pad >> 2) & 1)
            strides[axis] = min(running, (1 << 63) - 1)
            running *= max(shape[axis], 1) + ((pad & 3) if padded else 0)
    if flip:
        m |= 0x10
        tail += bytes([flip])
        strides = [-s if (k < 8 and flip >> k & 1) else s for k, s in enumerate(strides)]
    if zero:
        m |= 0x20
        tail += bytes([zero])
        strides = [0 if (k < 8 and zero >> k & 1) else s for k, s in enumerate(strides)]
    if extra is not None or raw_offset is not None or slack:
        m |= 0x40
        if raw_offset is not None:
            tail += bytes([255]) + u64(raw_offset)
        else:
            tail += bytes([extra or 0])
        tail += struct.pack("<b", slack)
    empty = 0 in shape
    lo = sum(min(0, (d - 1) * s) for d, s in zip(shape, strides)) if not empty else 0
    hi = sum(max(0, (d - 1) * s) for d, s in zip(shape, strides)) if not empty else 0
    offset = raw_offset if raw_offset is not None else -lo + (extra or 0)
    ln = offset + slack if empty else offset + hi + 1 + slack
    if length is not None:
        m |= 0x80
        tail += u16(length)
        ln = length
    if not 0 <= ln <= cap:
        ln = min(64, cap)
    return bytes([m]) + tail, strides, offset, ln


# ---- gather_differential -----------------------------------------------------

ELEM = {"u8": 0, "u16": 1, "u32": 2, "f32": 3, "u64": 4, "f64": 5, "u128": 6, "pair": 7,
        "bool": 8, "char": 9, "u24": 10, "u40": 11, "u16x3": 12, "zst": 13}
IDX = {"i64": 0, "i32": 1, "u32": 2, "u64": 3}
IDX_RANK = {None: 0, "+1": 28, "-1": 29, "0": 30, "1": 31}
# gather_differential's CAP and BUF_CAP.
CAP, BUF_CAP = 1 << 9, 1 << 12


def diff_case(elem, idx_type, src_shape, dim, idx_shape, *, modes=False, seed=0x5EED,
              idx_rank=None, out_shape_code=0, src_layout=None, idx_layout=None, out_layout=None,
              idx_mode=0, idx_values=None, sprinkle=None, overrides=(), src_values="prng",
              raw_src=()):
    for shape in (src_shape, idx_shape):
        # The decoder cuts larger shapes (common::fit); seeds say what they mean.
        n = 1
        for d in shape:
            n *= d
        assert n <= CAP, (shape, CAP)
    r = len(src_shape)
    big_r = max(r, 1)
    b = bytes([ELEM[elem] | IDX[idx_type] << 4 | (0x40 if modes else 0), r | IDX_RANK[idx_rank] << 3])
    if isinstance(dim, int):
        assert -big_r <= dim < big_r
        b += bytes([dim + big_r])
        wdim = dim + big_r if dim < 0 else dim
    else:
        b += {"R": bytes([240]), "-R-1": bytes([241])}[dim]
        wdim = None
    b += u64(seed)
    for n in src_shape:
        b += size(n)
    for k, n in enumerate(idx_shape):
        if k < r and k != wdim:
            s = src_shape[k]
            if n == s:
                b += bytes([0])
            elif n < s and n <= 71:
                b += bytes([128 + n])
            else:
                b += size_big(n)
        else:
            b += size(n)
    b += bytes([out_shape_code])
    out_shape = list(idx_shape)
    if 248 <= out_shape_code <= 251:
        out_shape = [out_shape[0] + 1] + out_shape[1:] if out_shape else [1]
    elif out_shape_code in (252, 253):
        out_shape = out_shape + [1]
    elif out_shape_code >= 254:
        out_shape = out_shape[:-1]
    lay_bytes = []
    lens = []
    for shape, kw in ((src_shape, src_layout), (idx_shape, idx_layout), (out_shape, out_layout)):
        lb, _, _, ln = layout(shape, cap=BUF_CAP, **(kw or {}))
        lay_bytes.append(lb)
        lens.append(ln)
    b += b"".join(lay_bytes)
    mode = idx_mode
    tail = b""
    if idx_values is not None:
        mode = 7
        vals = list(idx_values) + [0] * (lens[1] - len(idx_values))
        assert len(vals) == lens[1], (len(vals), lens[1])
        tail += b"".join(i64(v) for v in vals)
    if sprinkle is not None:
        mode |= 8
        tail += bytes([sprinkle])
    if overrides:
        mode |= 16
        tail += bytes([len(overrides)])
        for at, v in overrides:
            tail += u16(at) + i64(v)
    b += bytes([mode]) + tail
    b += bytes([{"prng": 0, "iota": 2, "raw": 3}[src_values]])
    if src_values == "raw":
        b += b"".join(u128(x) for x in raw_src)
    return b


def f32bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def diff_seeds():
    s = {}
    # SEMANTICS.md tutorial: the cross-entropy pick.
    s["tutorial_pick_f32"] = diff_case(
        "f32", "i64", [2, 3], 1, [2, 1], idx_values=[0, 2], src_values="raw",
        raw_src=[f32bits(x) for x in (0.1, 0.3, 0.6, 0.3, 0.2, 0.5)])
    # src = 1..=15 as [5, 3]; dim 0 and dim 1 examples.
    s["tutorial_dim0_u64"] = diff_case(
        "u64", "i64", [5, 3], 0, [3, 3], idx_values=[0, 1, 2, 2, 3, 4, 0, 2, 4], src_values="iota")
    s["tutorial_dim1_i32"] = diff_case(
        "u64", "i32", [5, 3], 1, [5, 2], idx_values=[1, 1, 2, 2, 0, 1, 2, 0, 1, 0], src_values="iota")
    # Edge case 1: index smaller than src on inner non-dim axes.
    s["inner_smaller_dim2_u16"] = diff_case("u16", "i64", [2, 3, 4], 2, [2, 2, 4])
    s["inner_smaller_dim0_u8"] = diff_case("u8", "i32", [2, 3, 4], 0, [2, 2, 2])
    # Expanded index: idx.unsqueeze(-1).expand(B, K, D), gathered along dim 1.
    s["expanded_index_u32"] = diff_case(
        "u32", "i64", [2, 5, 3], 1, [2, 4, 3], idx_layout={"small": [4, 1, 0]})
    # [N, 1] index with strides [1, 0] and [1, 1].
    s["index_n1_strides_1_0"] = diff_case(
        "f32", "i64", [4, 3], 1, [4, 1], idx_layout={"small": [1, 0]})
    s["index_n1_strides_1_1"] = diff_case(
        "u64", "u32", [4, 3], 1, [4, 1], idx_layout={"small": [1, 1]})
    # Negative strides: flipped source, transposed index, flipped and padded out.
    s["negative_strides_u128"] = diff_case(
        "u128", "i64", [3, 4], 0, [3, 4], src_layout={"flip": 0b11},
        idx_layout={"order": [1, 0]}, out_layout={"pads": [1, 2], "flip": 0b01, "extra": 3})
    s["permuted_padded_3d_pair"] = diff_case(
        "pair", "i32", [3, 4, 5], -2, [3, 6, 5], src_layout={"order": [2, 0, 1], "pads": [1, 5, 2]},
        idx_layout={"order": [1, 2, 0]}, out_layout={"order": [2, 1, 0], "flip": 0b010})
    # 0-d: (0-d src, index [3]) -> [x, x, x]; (1-d src, 0-d index); (0-d, 0-d).
    s["zero_d_src_bool"] = diff_case("bool", "i64", [], 0, [3], idx_rank="+1")
    s["zero_d_index_u24"] = diff_case("u24", "i64", [4], -1, [], idx_rank="0", idx_values=[3])
    s["zero_d_both_u8"] = diff_case("u8", "u64", [], -1, [])
    s["zero_d_dim1_out_of_range"] = diff_case("u16", "i64", [], "R", [])
    # Bad values, first one in row-major order reported.
    s["bad_size_minus1_i64"] = diff_case(
        "u32", "i64", [2, 3], 1, [2, 3], overrides=[(4, 3), (5, -1)])
    s["bad_i64_min_max"] = diff_case(
        "u64", "i64", [3, 2], 0, [3, 2], overrides=[(1, I64_MIN), (3, I64_MAX)],
        out_layout={"order": [1, 0]})
    s["bad_i32_near_max"] = diff_case(
        "u8", "i32", [5], 0, [8], overrides=[(6, (1 << 31) - 1), (7, -(1 << 31))])
    s["bad_u32_max"] = diff_case("u16", "u32", [5], 0, [4], overrides=[(2, (1 << 32) - 1)])
    s["bad_sprinkled_u24"] = diff_case("u24", "i64", [4, 9], 1, [4, 17], sprinkle=7)
    # Empty index (no checks) and an empty gather dim with a non-empty index.
    s["empty_index_mismatched"] = diff_case("u8", "i64", [2, 3], 1, [0, 5])
    s["empty_src_dim"] = diff_case("f32", "i64", [2, 0], 1, [2, 1])
    # Shape errors.
    s["size_mismatch"] = diff_case("u8", "i64", [2, 3], 1, [4, 1])
    s["rank_mismatch"] = diff_case("u8", "i64", [2, 3], 0, [2], idx_rank="-1")
    s["dim_out_of_range"] = diff_case("u8", "i64", [2, 3], "-R-1", [2, 3])
    # A huge stride on a size-1 axis is a valid view.
    s["huge_stride_size1"] = diff_case(
        "u64", "i64", [1, 5], 0, [3, 5], src_layout={"raw": [(1 << 63) - 1, 1]})
    # Lengths around vector widths and past the scalar sweep's 256 columns.
    s["lastdim_17_u8"] = diff_case("u8", "i32", [3, 17], 1, [3, 16])
    s["dim0_u128"] = diff_case("u128", "i64", [129, 3], 0, [127, 3])
    s["lastdim_257_u8_i32_strided_out"] = diff_case(
        "u8", "i32", [1, 257], 1, [1, 256], out_layout={"order": [1, 0]})
    s["bool_modes_16x31"] = diff_case(
        "bool", "i64", [16, 31], 1, [16, 31], modes=True, sprinkle=9)
    s["zst_elements"] = diff_case("zst", "i64", [3, 4], 1, [3, 7])
    # Odd widths, bool and char (outputs must be valid values).
    s["u40_transposed"] = diff_case("u40", "i64", [5, 9], 0, [4, 9], src_layout={"order": [1, 0]})
    s["u16x3_flipped"] = diff_case("u16x3", "i32", [3, 33], 1, [3, 40], src_layout={"flip": 0b10})
    s["char_raw_values"] = diff_case(
        "char", "u32", [4, 17], 1, [4, 17], src_values="raw",
        raw_src=[0x41, 0xD800, 0x10FFFF, 0xDFFF, 0x110000, 0xFFFFFFFF])
    s["bool_expanded_index"] = diff_case(
        "bool", "i64", [7, 65], 1, [7, 64], idx_layout={"small": [1, 0]})
    s["f64_lastdim_33"] = diff_case("f64", "u64", [2, 33], 1, [2, 33])
    # Index modes (Wrap, Clamp, Fill) on top of the default checks.
    s["modes_wrap_clamp_fill_i64"] = diff_case(
        "f32", "i64", [2, 3], 1, [2, 4], modes=True,
        idx_values=[-1, -3, 3, 2, -4, 5, I64_MIN, I64_MAX])
    s["modes_i32_transposed"] = diff_case(
        "u16", "i32", [4, 5], 0, [4, 5], modes=True, sprinkle=3, idx_layout={"order": [1, 0]})
    s["modes_unsigned_u64"] = diff_case(
        "u8", "u64", [6], 0, [4], modes=True, idx_values=[-1, 5, 6, -6])
    s["modes_empty_dim_bool"] = diff_case("bool", "i64", [2, 0], 1, [2, 3], modes=True)
    s["modes_zst_fill"] = diff_case("zst", "i32", [3], -1, [5], modes=True, idx_values=[0, -1, 3, 9, -4])
    # Fill values of another type (bool byte 2, a surrogate char) are refused;
    # the foreign type comes from the seed, so several seeds.
    for k, seed in enumerate((1, 2, 3, 4)):
        s[f"modes_fill_bool_{k}"] = diff_case(
            "bool", "i64", [3, 40], 1, [3, 40], modes=True, seed=seed, sprinkle=4)
        s[f"modes_fill_char_{k}"] = diff_case(
            "char", "i32", [40, 3], 0, [40, 3], modes=True, seed=seed, sprinkle=4)
    s["modes_fill_u24_out_strided"] = diff_case(
        "u24", "i64", [9, 9], 0, [9, 9], modes=True, sprinkle=2, out_layout={"flip": 0b01})
    # Re-created fuzz finds (tests/fuzz_regressions.rs,
    # gather_along_size_one_axis_with_huge_stride).
    s["regress_size1_huge_gather_stride_2d_u64"] = diff_case(
        "u64", "u64", [1, 1], -2, [1, 1], modes=True, seed=0,
        src_layout={"raw": [-3167464241074536448, 0]}, idx_layout={"small": [1, 1]},
        out_layout={"small": [1, 1]})
    s["regress_size1_huge_gather_stride_u128"] = diff_case(
        "u128", "i64", [1], -1, [1], seed=0x2100000700000026, out_shape_code=254,
        src_layout={"raw": [-3386706945552417247]}, out_layout={"raw_offset": 4611704710125545625})
    return s


# ---- views -------------------------------------------------------------------

def view_seed(shape, lay=None, new=False, new_len_code=0, ops=b""):
    b = bytes([3 if new else 0, len(shape)])
    for n in shape:
        b += size(n, wide=True)
    if new:
        b += bytes([new_len_code])
    else:
        b += layout(shape, cap=70_000, **(lay or {}))[0]
    return b + ops + bytes([0])


def op_permute(order):
    return bytes([1, 0]) + fisher_yates_bytes(order)


def op_transpose(a, b):
    return bytes([2, a, b])


def op_expand(lead, trailing_bytes):
    """`lead` sizes for new leading axes; `trailing_bytes` one byte per old axis
    (below 200: keep the size, or `b % 6` for an old size of 1)."""
    return bytes([3, len(lead)]) + b"".join(size(n, wide=True) for n in lead) + bytes(trailing_bytes)


def op_slice(dim, start, end, step):
    # start < 250: start % (size + 2); end byte 0 means "size"; step byte = step + 4.
    end_b = 0 if end is None else 128 + end
    return bytes([4, dim, start, end_b, step + 4])


def op_slice_raw_step(dim, start, step_code):
    return bytes([4, dim, start, 0, step_code])


def op_flip(dim):
    return bytes([5, dim])


def op_unsqueeze(dim):
    return bytes([6, dim])


def op_reshape_raw(shape):
    n = 160 + ((len(shape) - 160) % 7)
    assert n % 7 == len(shape)
    return bytes([7, n]) + b"".join(size(x, wide=True) for x in shape)


def views_seeds():
    s = {}
    s["new_2x3_transpose_reshape"] = view_seed(
        [2, 3], new=True, ops=op_transpose(0, 1) + op_reshape_raw([6]) + op_transpose(0, 1)
        + op_reshape_raw([3, 2]))
    s["negative_strides_slice_flip"] = view_seed(
        [4, 3], lay={"flip": 0b01}, ops=op_slice(1, 0, None, -2) + op_flip(0) + op_permute([1, 0]))
    s["unsqueeze_expand_permute"] = view_seed(
        [3], ops=op_unsqueeze(1) + op_expand([2], [0, 4]) + op_permute([2, 0, 1]))
    s["zero_d_offset"] = view_seed(
        [], lay={"extra": 5}, ops=op_unsqueeze(0) + op_expand([], [211]) + op_flip(0))
    s["empty_reshape"] = view_seed(
        [0, 5], lay={"extra": 2, "slack": 1}, ops=op_reshape_raw([5, 0]) + op_slice(0, 1, 3, 0))
    s["huge_strides_rejected"] = view_seed(
        [2, 3], lay={"raw": [(1 << 63) - 1, -(1 << 63)]}, ops=op_transpose(0, 1))
    s["huge_stride_size1_slice"] = view_seed(
        [1, 4], lay={"raw": [(1 << 62), 1]}, ops=op_slice(0, 0, None, 2) + op_slice(1, 1, 4, 3))
    s["overflowing_shape"] = view_seed([(1 << 64) - 1, 2], lay={"small": [0, 1]})
    s["padded_permuted_3d"] = view_seed(
        [3, 4, 5], lay={"order": [1, 2, 0], "pads": [2, 1, 7]},
        ops=op_slice(2, 1, 5, 2) + op_flip(1) + op_transpose(0, 2) + op_unsqueeze(3))
    s["off_by_one_length"] = view_seed([3, 4], lay={"slack": -1})
    s["new_wrong_length"] = view_seed([4, 4], new=True, new_len_code=251)
    # An empty view whose contiguous stride times the slice step overflows isize.
    s["regress_slice_step_empty_huge_stride"] = view_seed(
        [8, 0, 1 << 62], new=True, ops=op_slice(0, 0, None, -4))
    return s


# ---- ops ---------------------------------------------------------------------

OPS_ELEM = {"i64": 0, "u8": 1, "u16": 2, "u32": 3, "f32": 4, "f64": 5, "u128": 6, "bool": 7,
            "char": 8, "u24": 9, "u40": 10, "u16x3": 11, "pair": 12, "zst": 15}
OPS_CAP = 1 << 12


def ops_kinds(elem, idx_type, add=False):
    assert not add or OPS_ELEM[elem] < 7, "scatter_add needs a numeric type"
    return bytes([OPS_ELEM[elem] | IDX[idx_type] << 4 | (0x40 if add else 0)])


def ops_scatter(elem, idx_type, dest_shape, index_shape, src_extra, dim, *, add=False,
                dest_layout=None, src_layout=None, idx_layout=None, seed=0, values=(),
                parallel=False):
    """values: one per element of the index buffer, each in 0..bound or -1."""
    r = len(dest_shape)
    big_r = max(r, 1)
    b = bytes([0]) + ops_kinds(elem, idx_type, add) + bytes([r])
    b += b"".join(size(n) for n in dest_shape) + b"".join(size(n) for n in index_shape)
    b += bytes(src_extra)
    assert 0 <= dim + big_r // 2 <= big_r
    b += bytes([dim + big_r // 2])
    src_shape = [n + e for n, e in zip(index_shape, src_extra)]
    lens = []
    for shape, kw in ((dest_shape, dest_layout), (src_shape, src_layout), (index_shape, idx_layout)):
        lb, _, _, ln = layout(shape, cap=OPS_CAP, **(kw or {}))
        b += lb
        lens.append(ln)
    b += bytes([seed])
    vals = list(values) + [0] * (lens[2] - len(values))
    assert len(vals) == lens[2], (len(vals), lens[2])
    b += bytes(251 if v == -1 else v for v in vals)
    return b + bytes([1 if parallel else 0])


def ops_select(elem, idx_type, src_shape, dim, picks, *, zero_d=False, src_layout=None,
               take_shape=None, take_layout=None, take_values=()):
    """picks in -1..=size; take_shape per axis: "same", 1, or a size for an
    incompatible axis; take_values in -n-1..=n+1 for n = src_shape[dim]."""
    r = len(src_shape)
    big_r = max(r, 1)
    b = bytes([1]) + ops_kinds(elem, idx_type) + bytes([r])
    b += b"".join(size(n) for n in src_shape)
    b += layout(src_shape, cap=OPS_CAP, **(src_layout or {}))[0]
    b += bytes([7])  # value seed
    b += bytes([dim + big_r + 1])
    assert not zero_d or len(picks) == 1
    b += bytes([6 if zero_d else len(picks)])
    b += bytes(v + 1 for v in picks)
    if r == 0:
        return b
    d = dim % r
    shape = []
    for k, t in enumerate(take_shape or ["same"] * r):
        if t == "same":
            b += bytes([0])
            shape.append(src_shape[k])
        elif t == 1:
            b += bytes([100])
            shape.append(1)
        else:
            b += bytes([200 + (t - 200) % 7])
            shape.append(t)
    lb, _, _, ln = layout(shape, cap=OPS_CAP, **(take_layout or {}))
    b += lb
    n = src_shape[d]
    vals = list(take_values) + [0] * (ln - len(take_values))
    return b + bytes(v + n + 1 for v in vals)


def ops_seeds():
    s = {}
    # tests/fuzz_regressions.rs, scatter_add_packed_sweep_with_huge_dim_stride.
    for k, stride in enumerate((1 << 62, -(1 << 62), (1 << 63) - 1, -(1 << 63))):
        s[f"regress_scatter_add_packed_huge_dim_stride_{k}"] = ops_scatter(
            "i64", "i64", [2, 4], [1, 4], [0, 0], 0, add=True,
            dest_layout={"raw": [100, 1]}, src_layout={"raw": [stride, 1]},
            idx_layout={"raw": [stride, 1]}, values=[1, 0, 1, 0])
    # A zero-sized element: the sweep (dim 0 of a contiguous destination).
    s["scatter_zst_dim0"] = ops_scatter("zst", "i64", [3, 5], [2, 5], [1, 0], 0,
                                        values=[2, 0, 1, 1, 0, 0, 2, 2, 1, 0])
    s["scatter_zst_dim1"] = ops_scatter("zst", "i32", [3, 5], [3, 2], [0, 0], 1, values=[4, 0] * 3)
    s["scatter_bool_dim1"] = ops_scatter("bool", "i64", [3, 4], [3, 4], [0, 1], 1,
                                         values=[3, 2, 1, 0, 0, 0, 1, 1, 2, 3, 3, 2])
    s["scatter_char_transposed_dest"] = ops_scatter(
        "char", "u32", [4, 3], [2, 3], [0, 0], 0, dest_layout={"order": [1, 0]},
        values=[3, 0, 1, 2, 2, 3])
    s["scatter_u40_flipped_src"] = ops_scatter("u40", "u64", [5], [4], [1], 0,
                                               src_layout={"flip": 1}, values=[4, 0, 4, 2])
    s["scatter_u16x3_bad_value"] = ops_scatter("u16x3", "i64", [2, 3], [2, 3], [0, 0], 1,
                                               values=[0, 1, 2, 2, -1, 0])
    s["scatter_add_f32_dim0"] = ops_scatter("f32", "i64", [3, 4], [4, 4], [0, 0], 0, add=True,
                                            values=[0, 1, 2, 0] * 4)
    s["scatter_add_u8_parallel"] = ops_scatter("u8", "i32", [2, 6], [2, 6], [0, 0], 1, add=True,
                                               values=[5, 5, 5, 0, 1, 2] * 2, parallel=True)
    s["scatter_add_u128_padded_dest"] = ops_scatter(
        "u128", "i64", [3, 3], [3, 3], [0, 0], 0, add=True, dest_layout={"pads": [1, 6]},
        values=[2, 1, 0, 0, 0, 0, 1, 1, 1])
    s["select_bool_dim0"] = ops_select("bool", "i64", [4, 3], 0, [3, 0, -1],
                                       take_shape=["same", 1], take_values=[0, -1, 3, -4])
    s["select_char_0d_index"] = ops_select("char", "i32", [3, 5], 1, [4], zero_d=True,
                                           take_shape=[1, "same"], take_values=[-1, 0, 5, 4, -5])
    s["select_zst"] = ops_select("zst", "u64", [2, 3], -1, [2, 2, 0],
                                 take_shape=["same", "same"], take_values=[0, 1, 2, -1, -2, -3])
    s["select_u24_flipped"] = ops_select("u24", "i64", [5, 2], 0, [4, 1, 0, 2],
                                         src_layout={"flip": 1}, take_shape=["same", 1],
                                         take_values=[4, 3, 2, 1, 0])
    s["select_0d_src"] = ops_select("u16x3", "i64", [], 0, [0, 0, 1])
    return s


# ---- scatter_family ----------------------------------------------------------

SF_OPS = {"scatter_reduce": 0, "scatter_value": 1, "index_add": 2, "index_copy": 3,
          "index_fill": 4, "index_reduce": 5, "take": 6, "put": 7, "take_along_dim": 8,
          "put_along_axis": 9}
SF_ELEM = {"i8": 0, "u8": 1, "i16": 2, "u16": 3, "i32": 4, "i64": 5, "f32": 6, "f64": 7}
SF_IDX = {"i64": 0, "i32": 1, "u32": 2, "u64": 3}
SF_MODE = {None: 0, "error": 1, "wrap": 2, "clamp": 3, "drop": 4, "fill": 5}
SF_FORM = {"into_with": 0, "into": 1, "with": 2, "copy": 3}
SF_RED = {"sum": 0, "prod": 1, "mean": 2, "amax": 3, "amin": 4}
SF_CAP = 1 << 12


def sf_head(op, elem, idx, *, mode=None, form="into_with", include_self=False, small=False,
            red="sum", seed=0):
    flags = SF_MODE[mode] | SF_FORM[form] << 3 | (0x20 if include_self else 0) | (0x40 if small else 0)
    return bytes([SF_OPS[op], SF_ELEM[elem] | SF_IDX[idx] << 3, flags, SF_RED[red], seed])


def sf_dim(dim, rank):
    r = max(rank, 1)
    assert -r - 1 <= dim <= r
    return bytes([dim + r + 1])


def sf_index(vals, length):
    """Index value bytes: v >= 0 as itself (taken modulo the bound), -k as
    200 + k - 1 (-1 - (k - 1) % bound), "out" as the bound itself."""
    vals = list(vals) + [0] * (length - len(vals))
    return bytes(220 if v == "out" else v if v >= 0 else 199 - v for v in vals[:length])


def sf_sizes(shape):
    return b"".join(size(n) for n in shape)


def sf_scatter(op, elem, idx, dest, index, extra, dim, vals, dest_layout=None, idx_layout=None,
               src_layout=None, **kw):
    b = sf_head(op, elem, idx, **kw) + bytes([len(dest)]) + sf_sizes(dest)
    b += layout(dest, cap=SF_CAP, **(dest_layout or {}))[0]
    b += bytes([0]) + sf_sizes(index) + bytes(extra) + sf_dim(dim, len(dest))
    ib, _, _, iln = layout(index, cap=SF_CAP, **(idx_layout or {}))
    src = [n + e for n, e in zip(index, extra)]
    b += ib + layout(src, cap=SF_CAP, **(src_layout or {}))[0]
    return b + sf_index(vals, iln)


def sf_index_op(op, elem, idx, dest, dim, vals, *, zero_d=False, dest_layout=None, **kw):
    r = len(dest)
    b = sf_head(op, elem, idx, **kw) + bytes([r]) + sf_sizes(dest)
    b += layout(dest, cap=SF_CAP, **(dest_layout or {}))[0] + sf_dim(dim, r)
    m = 1 if zero_d else len(vals)
    ishape = [] if zero_d else [m]
    b += bytes([220 if zero_d else m])
    ib, _, _, iln = layout(ishape, cap=SF_CAP)
    b += ib
    if r == 0:
        src = [m]
        if m == 1:
            b += bytes([1])
    else:
        src = list(dest)
        src[dim % r] = m
    b += bytes([0]) + layout(src, cap=SF_CAP)[0]
    return b + sf_index(vals, iln)


def sf_put(elem, idx, dest, index, vals, *, accumulate=False, flat_src=False, dl=None, **kw):
    b = sf_head("put", elem, idx, **kw) + bytes([len(dest)]) + sf_sizes(dest)
    b += layout(dest, cap=SF_CAP, **(dl or {}))[0]
    b += bytes([len(index)]) + sf_sizes(index)
    ib, _, _, iln = layout(index, cap=SF_CAP)
    n = 1
    for k in index:
        n *= k
    src = [n] if flat_src else index
    b += ib + bytes([200 if flat_src else 0]) + layout(src, cap=SF_CAP)[0]
    return b + bytes([1 if accumulate else 0]) + sf_index(vals, iln)


def sf_take(elem, idx, src, index, vals, *, src_layout=None, out_layout=None, fill=False, **kw):
    b = sf_head("take", elem, idx, **kw) + bytes([len(src)]) + sf_sizes(src)
    b += layout(src, cap=SF_CAP, **(src_layout or {}))[0]
    b += bytes([len(index)]) + sf_sizes(index)
    ib, _, _, iln = layout(index, cap=SF_CAP)
    b += ib + sf_index(vals, iln) + bytes([0 if fill else 1])
    return b + layout(index, cap=SF_CAP, **(out_layout or {}))[0]


def sf_take_along(elem, idx, src, index, dim, vals, **kw):
    """index: per axis "same", 1 or a size (the dim's axis, or every axis
    without a dim, takes a size)."""
    r = len(src)
    b = sf_head("take_along_dim", elem, idx, **kw) + bytes([r]) + sf_sizes(src)
    b += layout(src, cap=SF_CAP)[0]
    b += bytes([0]) if dim is None else bytes([100]) + sf_dim(dim, r)
    d = None if dim is None else dim % max(r, 1)
    b += bytes([0])
    shape = []
    for k, t in enumerate(index):
        if dim is None or k == d:
            b += size(t)
            shape.append(t)
        elif t == "same":
            b += bytes([0])
            shape.append(src[k])
        else:
            assert t == 1
            b += bytes([120])
            shape.append(1)
    ib, _, _, iln = layout(shape, cap=SF_CAP)
    return b + ib + sf_index(vals, iln) + bytes([0])


def sf_put_along(elem, idx, arr, index, dim, vals, values_shape=(), **kw):
    r = len(arr)
    d = dim % max(r, 1)
    b = sf_head("put_along_axis", elem, idx, **kw) + bytes([r]) + sf_sizes(arr)
    b += layout(arr, cap=SF_CAP)[0] + sf_dim(dim, r) + bytes([0])
    shape = []
    for k, t in enumerate(index):
        if k == d:
            b += size(t)
            shape.append(t)
        elif t == "same":
            b += bytes([0])
            shape.append(arr[k])
        else:
            b += bytes([120])
            shape.append(1)
    ib, _, _, iln = layout(shape, cap=SF_CAP)
    b += ib + bytes([len(values_shape)])
    for k, t in enumerate(values_shape):
        b += bytes([0 if t == "same" else 120])
    vs = [shape[len(shape) - len(values_shape) + k] if t == "same" else 1
          for k, t in enumerate(values_shape)]
    b += layout(vs, cap=SF_CAP)[0]
    return b + sf_index(vals, iln)


def scatter_family_seeds():
    s = {}
    # scatter_reduce: every reduction, with and without self, floats with
    # specials (seeds 0..), integers small, through several layouts.
    types = ["f32", "f64", "i8", "u8", "i16", "u16", "i32", "i64"]
    idxs = ["i64", "i32", "u32", "u64"]
    k = 0
    for red in SF_RED:
        for inc in (False, True):
            elem, ix = types[k % len(types)], idxs[k % len(idxs)]
            s[f"scatter_reduce_{red}_{'self' if inc else 'noself'}_{elem}"] = sf_scatter(
                "scatter_reduce", elem, ix, [4, 3], [5, 3], [0, 1], 0,
                [0, 1, 0, 3, 3, 2, 0, 0, 1, 2, 1, 0, 3, 3, 3], red=red, include_self=inc,
                seed=k * 7 + 1, form=["into_with", "into", "with", "copy"][k % 4])
            k += 1
    s["scatter_reduce_mean_expanded_index"] = sf_scatter(
        "scatter_reduce", "f32", "i64", [3, 4], [5, 4], [0, 0], 0, [2, 0, 2, 1, 2],
        idx_layout={"zero": 2}, red="mean", include_self=True, seed=9)
    s["scatter_reduce_amax_flipped_dest"] = sf_scatter(
        "scatter_reduce", "f64", "i32", [3, 4], [3, 4], [0, 0], 1,
        [3, 3, 0, 1, 2, 2, 2, 2, 0, 1, 0, 1], dest_layout={"flip": 1}, red="amax", seed=77)
    s["scatter_reduce_prod_transposed_dest"] = sf_scatter(
        "scatter_reduce", "i32", "u32", [4, 3], [2, 3], [0, 0], 0, [3, 1, 3, 3, 0, 0],
        dest_layout={"order": [1, 0]}, red="prod", include_self=True, small=True)
    s["scatter_reduce_sum_drop"] = sf_scatter(
        "scatter_reduce", "u8", "i64", [2, 3], [2, 3], [0, 0], 1, [2, -1, 5, 0, 0, 1],
        mode="drop", red="sum", include_self=True)
    s["scatter_reduce_amin_wrap_3d"] = sf_scatter(
        "scatter_reduce", "f32", "i64", [2, 3, 2], [2, 3, 2], [0, 0, 0], -2,
        [0, -1, 2, 1, -3, 0, 1, 1, 2, 2, 0, -2], mode="wrap", red="amin", seed=33)
    s["scatter_reduce_clamp_0d"] = sf_scatter(
        "scatter_reduce", "i64", "i64", [], [], [], 0, [5], mode="clamp", red="mean")
    s["scatter_reduce_bad_value"] = sf_scatter(
        "scatter_reduce", "f32", "i64", [3, 2], [2, 2], [0, 0], 0, [0, 1, "out", 1], red="amax")
    s["scatter_value_f64_dim1"] = sf_scatter(
        "scatter_value", "f64", "i64", [3, 4], [3, 2], [0, 0], 1, [3, 3, 0, 1, 2, 2], seed=5)
    s["scatter_value_u16_drop"] = sf_scatter(
        "scatter_value", "u16", "u32", [4], [3], [0], 0, [9, 1, 3], mode="drop", form="with")
    # index_*.
    for k, (op, elem, ix) in enumerate([("index_add", "f32", "i64"), ("index_add", "f64", "i32"),
                                         ("index_add", "i8", "u32"), ("index_copy", "u8", "i64"),
                                         ("index_copy", "f32", "i32"), ("index_fill", "i16", "i64"),
                                         ("index_fill", "f64", "u64"), ("index_reduce", "f32", "i64"),
                                         ("index_reduce", "i32", "i64"), ("index_reduce", "f64", "u32")]):
        red = ["prod", "mean", "amax", "amin"][k % 4]
        s[f"{op}_{elem}_{k}"] = sf_index_op(
            op, elem, ix, [3, 4], k % 2, [2, 0, 2] if k % 2 == 0 else [3, 1, 3, 0],
            red=red, include_self=k % 3 == 0, seed=k * 11 + 3,
            form=["into_with", "into", "with", "copy"][k % 4])
    s["index_add_alpha_3d"] = sf_index_op("index_add", "f32", "i64", [2, 3, 2], 1, [2, 2, 0],
                                          seed=3, dest_layout={"flip": 2})
    s["index_add_alpha_1d"] = sf_index_op("index_add", "f64", "i64", [4], 0, [1, 1, 3], seed=5)
    s["index_fill_negative"] = sf_index_op("index_fill", "f32", "i64", [3, 2], 0, [-1, 0],
                                           form="into")
    s["index_copy_0d_index"] = sf_index_op("index_copy", "i64", "i64", [3, 2], 1, [1], zero_d=True)
    s["index_reduce_0d_dest"] = sf_index_op("index_reduce", "f32", "i32", [], 0, [0, 0],
                                            red="mean", include_self=True)
    # take / put.
    s["take_transposed"] = sf_take("f32", "i64", [2, 3], [2, 2], [0, 5, -2, 3],
                                   src_layout={"order": [1, 0]}, seed=1)
    s["take_fill"] = sf_take("u8", "i32", [4], [3], ["out", 0, 3], fill=True, form="with")
    s["take_into_strided_out"] = sf_take("i16", "u32", [2, 2], [4], [3, 2, 1, 0],
                                         out_layout={"flip": 1}, form="into_with")
    s["take_0d"] = sf_take("f64", "i64", [], [], [0], form="copy")
    s["put_accumulate_f32"] = sf_put("f32", "i64", [2, 2], [5], [0, 0, -1, 3, 0],
                                     accumulate=True, seed=4)
    s["put_assign_i8"] = sf_put("i8", "i32", [3], [2, 2], [2, 2, 0, -3], flat_src=True)
    s["put_accumulate_u16_clamp"] = sf_put("u16", "u32", [2, 3], [4], ["out", 1, 5, 5],
                                           accumulate=True, mode="clamp")
    s["put_strided_dest"] = sf_put("f64", "i64", [2, 3], [3], [5, 0, 5], dl={"order": [1, 0]})
    # take_along_dim / put_along_axis.
    s["take_along_dim_none"] = sf_take_along("f32", "i64", [2, 3], [4], None, [5, 0, 3, 3])
    s["take_along_dim_bcast"] = sf_take_along("i32", "i64", [2, 3], [1, 2], 1, [-1, 0],
                                              form="copy")
    s["take_along_dim_rows"] = sf_take_along("u8", "i32", [3, 2], [2, "same"], 0, [2, 0, 1, 1])
    s["put_along_axis_last"] = sf_put_along("f32", "i64", [2, 3], ["same", 1], 1, [-1, 0],
                                            values_shape=["same"])
    s["put_along_axis_rows"] = sf_put_along("i64", "u32", [3, 2], [2, "same"], 0, [2, 0, 1, 1],
                                            values_shape=[1, "same"], form="with")
    s["put_along_axis_1"] = sf_put_along("u16", "i32", [3, 2], [1, 1], 0, [1])
    return s


# ---- embedding ---------------------------------------------------------------

EMB_OPS = {"embedding": 0, "embedding_bag": 1, "embedding_backward": 2,
           "embedding_bag_backward": 3, "segment_reduce": 4}
EMB_KINDS = {("f32", "i64"): 0, ("f32", "i32"): 1, ("f64", "i64"): 2, ("i32", "i64"): 3}
EMB_FORM = {"into_with": 0, "into": 1, "with": 2, "copy": 3}
EMB_BAG_MODE = {"sum": 0, "mean": 1, "max": 2}
EMB_CAP, EMB_WIDE_CAP = 1 << 12, 1 << 19


def emb_head(op, elem="f32", idx="i64", *, form="into_with", small=False, scalar=False,
             refused=False, wide=False, param=0, seed=0):
    flags = EMB_FORM[form] | (4 if small else 0) | (8 if scalar else 0)
    flags |= (0x70 if refused else 0) | (0x80 if wide else 0)
    b = bytes([EMB_OPS[op], EMB_KINDS[(elem, idx)], flags, param, seed])
    return b + (bytes([0]) if wide else b"")


def emb_size(n):
    """A size byte that decodes (`size % 7` or as is) to n <= 6 or a table size."""
    return size(n)


def emb_table(shape, lay=None):
    b = bytes([0]) + size(shape[0]) + size(shape[1]) if len(shape) == 2 else \
        bytes([248 + len(shape)]) + b"".join(size(n) for n in shape)
    return b + layout(shape, cap=EMB_CAP, **(lay or {}))[0]


def emb_ids(shape, vals, lay=None):
    """Layout bytes and id bytes: v >= 0 as itself (< rows), "out" the row
    count, -k as 210 + k - 1."""
    lb, _, _, ln = layout(shape, cap=EMB_CAP, **(lay or {}))
    vals = list(vals) + [0] * (ln - len(vals))
    return lb + bytes(220 if v == "out" else v if v >= 0 else 209 - v for v in vals[:ln])


def emb_outs(shapes, lays=(), wide=False):
    b = b""
    for k, s in enumerate(shapes):
        b += bytes([0]) + layout(s, cap=EMB_WIDE_CAP if wide else EMB_CAP,
                                 **(lays[k] if k < len(lays) else {}))[0]
    return b


def emb_offsets(entries, lay=None):
    """entries: 0 (the first), a step 0..3, "n", "past", "down"."""
    b = bytes([len(entries)])
    for i, e in enumerate(entries):
        b += bytes([{"n": 220, "past": 210, "down": 200}[e] if isinstance(e, str) else e])
    return b + layout([len(entries)], cap=EMB_CAP, **(lay or {}))[0]


def emb_lengths(ls, lay=None):
    b = bytes([len(ls)])
    for l in ls:
        b += bytes([{"neg": 200, "past": 210}[l] if isinstance(l, str) else l if l < 4 else 224 + l])
    return b + layout([len(ls)], cap=EMB_CAP, **(lay or {}))[0]


def emb_padding(p):
    if p is None:
        return bytes([0])
    if p == "out":
        return bytes([240])
    return bytes([140 + p if p >= 0 else 219 - p])


def emb_lookup(elem, idx, table, ids_shape, vals, *, table_lay=None, ids_lay=None,
               out_lay=None, out_shape=None, **kw):
    b = emb_head("embedding", elem, idx, **kw) + emb_table(table, table_lay)
    b += bytes([len(ids_shape)]) + b"".join(emb_size(n) for n in ids_shape)
    b += emb_ids(ids_shape, vals, ids_lay)
    return b + emb_outs([out_shape or list(ids_shape) + [table[1]]], [out_lay or {}])


def emb_bag_param(mode, *, include_last=False, weights=False, fixed=False, end=False,
                  ask=False):
    return (EMB_BAG_MODE[mode] | (4 if include_last else 0) | (8 if weights else 0)
            | (16 if fixed else 0) | (32 if end else 0) | (64 if ask else 0))


def emb_bags(op, elem, idx, table, ids_shape, vals, offsets, *, mode="sum", include_last=False,
             weights=False, end=False, padding=None, table_lay=None, ids_lay=None,
             weights_lay=None, ask=False, out_lays=(), **kw):
    fixed = offsets is None
    param = emb_bag_param(mode, include_last=include_last, weights=weights, fixed=fixed,
                          end=end, ask=ask)
    b = emb_head(op, elem, idx, param=param, **kw) + emb_table(table, table_lay)
    b += bytes([0]) + b"".join(emb_size(n) for n in ids_shape)
    b += emb_ids(ids_shape, vals, ids_lay)
    if not fixed:
        b += emb_offsets(offsets)
    if weights:
        b += bytes([0]) + layout(ids_shape, cap=EMB_CAP, **(weights_lay or {}))[0]
    b += emb_padding(padding)
    if fixed:
        nbags = ids_shape[0]
    else:
        nbags = len(offsets) - (1 if include_last else 0)
    if op == "embedding_bag":
        return b + emb_outs([[nbags, table[1]]], out_lays)
    b += bytes([0]) + layout([nbags, table[1]], cap=EMB_CAP)[0]
    outs = [list(table)] + ([list(ids_shape)] if weights and ask and kw.get("form", "into_with") in ("into", "into_with") else [])
    return b + emb_outs(outs, out_lays)


def emb_backward(elem, idx, rows, d, ids_shape, vals, *, padding=None, grad_lay=None,
                 out_lay=None, **kw):
    b = emb_head("embedding_backward", elem, idx, **kw) + size(rows) + size(d)
    b += bytes([len(ids_shape)]) + b"".join(emb_size(n) for n in ids_shape)
    b += emb_ids(ids_shape, vals)
    b += bytes([0]) + layout(list(ids_shape) + [d], cap=EMB_CAP, **(grad_lay or {}))[0]
    b += emb_padding(padding)
    return b + emb_outs([[rows, d]], [out_lay or {}])


EMB_RED = {"sum": 0, "prod": 1, "mean": 2, "amax": 3, "amin": 4}


def emb_segment(elem, idx, shape, red, *, lengths=None, offsets=None, initial=False,
                data_lay=None, out_lay=None, **kw):
    """shape: the data's, rows first (rows = small size + extra up to 6)."""
    param = EMB_RED[red] | (8 if offsets is not None else 0) | (16 if initial else 0)
    b = emb_head("segment_reduce", elem, idx, param=param, **kw)
    rank = len(shape)
    b += bytes([9 + (rank - 1) if rank else 0])
    if rank:
        first = min(shape[0], 6)
        b += emb_size(first) + b"".join(emb_size(n) for n in shape[1:]) + bytes([shape[0] - first])
    b += layout(shape, cap=EMB_CAP, **(data_lay or {}))[0]
    b += emb_offsets(offsets) if offsets is not None else emb_lengths(lengths)
    nseg = len(offsets) - 1 if offsets is not None else len(lengths)
    return b + emb_outs([[nseg] + list(shape[1:])], [out_lay or {}])


def embedding_seeds():
    s = {}
    # embedding: every element type, id ranks 0..3, strided tables and outs.
    s["lookup_f32_2d"] = emb_lookup("f32", "i64", [5, 3], [2, 2], [4, 0, 4, 1], seed=1)
    s["lookup_f32_i32_ids"] = emb_lookup("f32", "i32", [4, 17], [3], [3, 1, 3], form="into")
    s["lookup_f64_0d"] = emb_lookup("f64", "i64", [3, 4], [], [2], form="copy", seed=2)
    s["lookup_i32_3d"] = emb_lookup("i32", "i64", [4, 2], [2, 1, 3], [0, 3, 1, 2, 2, 0],
                                    form="with", small=True)
    s["lookup_transposed_table"] = emb_lookup("f32", "i64", [4, 5], [3], [1, 3, 0],
                                              table_lay={"order": [1, 0]}, seed=3)
    s["lookup_flipped_out"] = emb_lookup("f64", "i64", [3, 3], [2], [2, 0],
                                         out_lay={"flip": 3}, seed=4)
    s["lookup_out_of_range"] = emb_lookup("f32", "i64", [3, 2], [2, 2], [0, 1, "out", -1])
    s["lookup_scalar_isa"] = emb_lookup("f32", "i64", [2, 33], [3], [1, 0, 1], scalar=True)
    s["lookup_refused_mode"] = emb_lookup("f32", "i64", [2, 2], [1], [0], refused=True)
    # embedding_bag.
    s["bag_sum_empty_bag"] = emb_bags("embedding_bag", "f32", "i64", [5, 3], [6],
                                      [0, 4, 4, 2, 1, 3], [0, 2, 0, 3], seed=5)
    s["bag_mean_padding"] = emb_bags("embedding_bag", "f64", "i64", [4, 4], [5], [1, 0, 1, 3, 1],
                                     [0, 2, 1], mode="mean", padding=1, seed=6, form="into")
    s["bag_max_nan"] = emb_bags("embedding_bag", "f32", "i64", [5, 8], [6], [0, 1, 2, 3, 4, 0],
                                [0, 3], mode="max", seed=7, form="with")
    s["bag_max_i32"] = emb_bags("embedding_bag", "i32", "i64", [4, 3], [5], [3, 2, 2, 1, 0],
                                [0, 1, 2], mode="max", form="copy")
    s["bag_include_last"] = emb_bags("embedding_bag", "f32", "i32", [3, 2], [4], [0, 1, 2, 2],
                                     [0, 2, 0, "n"], include_last=True, seed=8)
    s["bag_fixed_weights"] = emb_bags("embedding_bag", "f32", "i64", [4, 5], [3, 2],
                                      [0, 1, 2, 3, 3, 3], None, weights=True, seed=9)
    s["bag_weights_mean_refused"] = emb_bags("embedding_bag", "f64", "i64", [3, 2], [3],
                                             [0, 1, 2], [0, 1], weights=True, mode="mean")
    s["bag_offsets_decrease"] = emb_bags("embedding_bag", "f32", "i64", [3, 2], [4], [0, 1, 2, 0],
                                         [0, 3, "down"])
    s["bag_padding_negative_strided"] = emb_bags(
        "embedding_bag", "f32", "i64", [5, 6], [5], [4, 0, 4, 2, 1], [0, 2, 1], padding=-1,
        table_lay={"order": [1, 0]}, mode="sum", seed=10)
    s["bag_padding_out_of_range"] = emb_bags("embedding_bag", "i32", "i64", [3, 2], [2], [0, 1],
                                             [0], padding="out")
    s["bag_id_out_of_range"] = emb_bags("embedding_bag", "f64", "i64", [3, 4], [4],
                                        [0, 2, "out", 1], [0, 2], mode="max")
    # Gradients.
    s["backward_padding"] = emb_backward("f32", "i64", 4, 3, [2, 3], [1, 0, 1, 3, 1, 2],
                                         padding=1, seed=11)
    s["backward_f64_flipped_grad"] = emb_backward("f64", "i64", 3, 5, [4], [2, 2, 0, 2],
                                                  grad_lay={"flip": 1}, form="with", seed=12)
    s["backward_i32_out_of_range"] = emb_backward("i32", "i64", 3, 2, [3], [0, -1, 1])
    s["bag_backward_weighted"] = emb_bags("embedding_bag_backward", "f32", "i64", [4, 3], [5],
                                          [0, 3, 3, 1, 0], [0, 2, 2], weights=True, ask=True,
                                          seed=13)
    s["bag_backward_mean"] = emb_bags("embedding_bag_backward", "f64", "i64", [3, 4], [5],
                                      [2, 2, 0, 1, 2], [0, 3], mode="mean", padding=0, seed=14,
                                      form="into")
    s["bag_backward_max_ties"] = emb_bags("embedding_bag_backward", "i32", "i64", [4, 2], [6],
                                          [1, 1, 2, 3, 0, 1], [0, 4], mode="max", small=True,
                                          form="copy")
    s["bag_backward_max_nan"] = emb_bags("embedding_bag_backward", "f32", "i32", [5, 4], [6],
                                         [0, 1, 2, 3, 4, 2], [0, 2, 2], mode="max", seed=15)
    s["bag_backward_fixed_weights_copy"] = emb_bags(
        "embedding_bag_backward", "f64", "i64", [3, 3], [2, 3], [0, 1, 2, 2, 1, 0], None,
        weights=True, form="with", seed=16)
    # segment_reduce.
    for k, red in enumerate(EMB_RED):
        elem = ["f32", "f64", "i32", "f32", "f64"][k]
        s[f"segment_{red}_lengths_{elem}"] = emb_segment(
            elem, "i64", [7, 3], red, lengths=[2, 4, 1] if elem == "i32" else [2, 0, 4, 1], initial=k % 2 == 1, seed=17 + k,
            form=["into_with", "into", "with", "copy", "into_with"][k])
        s[f"segment_{red}_offsets"] = emb_segment(
            "f32", "i32" if k % 2 else "i64", [6], red, offsets=[0, 2, 2, 5, "n"],
            initial=k % 2 == 0, seed=23 + k, data_lay={"flip": 1})
    s["segment_mean_empty_f64"] = emb_segment("f64", "i64", [3, 2, 2], "mean", lengths=[0, 3, 0])
    s["segment_bad_lengths"] = emb_segment("f32", "i64", [4, 2], "sum", lengths=[2, "neg", 4])
    s["segment_short_offsets"] = emb_segment("f32", "i64", [5], "amax", offsets=[0, 2, 1])
    s["segment_strided_out"] = emb_segment("f32", "i64", [5, 3], "prod", lengths=[3, 2],
                                           out_lay={"order": [1, 0]}, seed=29)
    # Wide cases: 2^14 ids or rows, split across threads.
    for k, op in enumerate(["embedding", "embedding_bag", "embedding_backward",
                            "embedding_bag_backward", "segment_reduce"]):
        s[f"wide_{op}"] = emb_wide(op, k)
    return s


def emb_wide(op, k):
    """A wide case: every decoded choice at its first value."""
    param = {"embedding_bag": 0, "embedding_bag_backward": 1, "segment_reduce": 0}.get(op, 0)
    b = emb_head(op, "f32", "i64", wide=True, param=param, seed=1 + k)
    wl = lambda shape: layout(shape, cap=EMB_WIDE_CAP)[0]
    rows, d, n = 65, 17, 1 << 14
    if op == "embedding":
        return b + bytes([0]) + size(1) + size(1) + wl([rows, d]) + bytes([0]) + emb_outs([[n, d]], wide=True)
    if op == "embedding_backward":
        return b + size(1) + size(1) + bytes([0]) + bytes([0]) + wl([n, d]) + bytes([0]) \
            + emb_outs([[rows, d]], wide=True)
    if op == "segment_reduce":
        return b + bytes([0]) + size(1) + wl([n, d]) + emb_outs([[0, d]], wide=True)
    b += bytes([0]) + size(1) + size(1) + wl([rows, d]) + bytes([0]) + bytes([0])
    if op == "embedding_bag":
        return b + emb_outs([[0, d]], wide=True)
    return b + bytes([0]) + wl([0, d]) + emb_outs([[rows, d]], wide=True)


def write(target, seeds):
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    for name, data in sorted(seeds.items()):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print(f"{target}: {len(seeds)} seeds in {os.path.relpath(d)}")


if __name__ == "__main__":
    write("gather_differential", diff_seeds())
    write("views", views_seeds())
    write("ops", ops_seeds())
    write("scatter_family", scatter_family_seeds())
    write("embedding", embedding_seeds())
