#!/usr/bin/env python3
"""Independent reference values for tests/test_device.c (run: python3 tests/data/device_reference.py).

Computed with mpmath at 60 significant digits, from the level models written
out below (spec section 3 / aihwkit ReRamWan2022NoiseModel), with nothing
shared with the C code: thresholds solve NVMExplorer's quadratic
a x^2 + b x + c = 0 (fi_utils.solveGauss) for the root between the means, and
P(read r | written w) integrates the Gaussian of level w over [t_{r-1}, t_r)
(upper bands through survival functions so that tiny tails keep all digits).
Prints C initialisers that the test pastes in."""
import mpmath as mp

mp.mp.dps = 60


def thresholds(means, sigmas):
    out = []
    for i in range(len(means) - 1):
        m1, s1, m2, s2 = map(mp.mpf, (means[i], sigmas[i], means[i + 1], sigmas[i + 1]))
        a = 1 / (2 * s1**2) - 1 / (2 * s2**2)
        b = m2 / s2**2 - m1 / s1**2
        c = m1**2 / (2 * s1**2) - m2**2 / (2 * s2**2) - mp.log(s2 / s1)
        if a == 0:
            roots = [-c / b]
        else:
            d = mp.sqrt(b * b - 4 * a * c)
            roots = [(-b + d) / (2 * a), (-b - d) / (2 * a)]
        out.append([r for r in roots if m1 < r < m2][0])
    return out


def confusion(means, sigmas):
    t = thresholds(means, sigmas)
    L = len(means)
    rows = []
    for w in range(L):
        mu, s = mp.mpf(means[w]), mp.mpf(sigmas[w])
        row = []
        for r in range(L):
            lo = t[r - 1] if r > 0 else mp.ninf
            hi = t[r] if r < L - 1 else mp.inf
            if r <= w:   # lower tail: both CDFs small
                row.append(mp.ncdf(hi, mu, s) - mp.ncdf(lo, mu, s))
            else:        # upper tail, as survival functions (no cancellation near 1)
                row.append(mp.ncdf(-lo, -mu, s) - mp.ncdf(-hi, -mu, s))
        rows.append(row)
    return t, rows


def poly_levels(coeffs, bits, gmax=40):
    L = 2**bits
    g = [mp.mpf(gmax) * i / (L - 1) for i in range(L)]
    s = [sum(mp.mpf(c) * (x / gmax) ** k for k, c in enumerate(coeffs)) for x in g]
    return g, s


W1S = [0.348, 16.030, -43.853, 45.393, -16.815]
W1D = [0.701, 22.086, -50.773, 47.095, -16.458]
cases = {
    "nvmexplorer_2b": ([0, 0.3846, 0.7217, 1.0], [0.0086, 0.0335, 0.0274, 0.0034]),
    "nvmexplorer_3b": ([0, 0.0783, 0.2038, 0.3846, 0.5421, 0.7217, 0.8861, 1.0],
                       [0.0086, 0.0135, 0.0304, 0.0335, 0.0248, 0.0274, 0.0372, 0.0034]),
    "wan2022_1s_2b": poly_levels(W1S, 2),
    "wan2022_1s_3b": poly_levels(W1S, 3),
    "wan2022_1d_2b": poly_levels(W1D, 2),
}
def c_num(x):
    """C literal; 0 for values below the double range (the test then only asks for < 1e-290)."""
    return "0" if abs(x) < mp.mpf("1e-300") else mp.nstr(x, 17)


for name, (m, s) in cases.items():
    t, rows = confusion(m, s)
    print(f"/* {name} */")
    print("{" + ", ".join(mp.nstr(x, 17) for x in t) + "},")
    print("{" + ",\n ".join("{" + ", ".join(c_num(p) for p in row) + "}" for row in rows) + "},")
