import Foundation

/// The path_name rule of design §2.2.1: `live/` + slug(name) + `-` + the first 8 hex digits of a UUID.
public enum PathName {
    public static let prefix = "live/"
    public static let maxSlugLength = 48
    /// Used when a name has no character MediaMTX accepts even once transliterated (e.g. only emoji).
    public static let fallbackSlug = "stream"

    /// Transliterates other scripts to plain ASCII Latin (`摄像头1 前门` → `she xiang tou1 qian men`,
    /// `Камера` → `Kamera`), then keeps `[A-Za-z0-9_-]`, turns whitespace into `-`, collapses and trims dashes, caps
    /// the length: operators can tell paths apart in MediaMTX's logs, players and recording folders.
    public static func slug(_ name: String) -> String {
        var out = ""
        for scalar in latin(name).unicodeScalars {
            if scalar.isASCII, CharacterSet.alphanumerics.contains(scalar) || scalar == "_" || scalar == "-" {
                out.unicodeScalars.append(scalar)
            } else if CharacterSet.whitespaces.contains(scalar) {
                out.append("-")
            }
        }
        while out.contains("--") { out = out.replacingOccurrences(of: "--", with: "-") }
        out = String(out.prefix(maxSlugLength))
        out = String(out.drop(while: { $0 == "-" }).reversed().drop(while: { $0 == "-" }).reversed())
        return out.isEmpty ? fallbackSlug : out
    }

    /// ICU's `Any-Latin; Latin-ASCII` (`ß` → `ss`, `Æ` → `AE`, diacritics dropped); ASCII names as they are (no
    /// transliterator is made for them).
    static func latin(_ name: String) -> String {
        guard !name.unicodeScalars.allSatisfy(\.isASCII) else { return name }
        return name.applyingTransform(asciiLatin, reverse: false) ?? name
    }

    static let asciiLatin = StringTransform(rawValue: "Any-Latin; Latin-ASCII")

    /// `live/{slug}-{first 8 hex of id}`; never `live/{slug}` alone.
    public static func make(name: String, id: UUID) -> String {
        let short = id.uuidString.lowercased().prefix(8)
        return "\(prefix)\(slug(name))-\(short)"
    }
}
