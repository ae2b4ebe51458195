/// Compares secrets in time that depends on the length of `expected` only.
func constantTimeEquals(_ given: String, _ expected: String) -> Bool {
    let a = Array(given.utf8)
    let b = Array(expected.utf8)
    var difference = UInt8(a.count == b.count ? 0 : 1)
    for i in 0..<b.count { difference |= b[i] ^ (i < a.count ? a[i] : 0) }
    return difference == 0
}
