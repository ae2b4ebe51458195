/// What this build is. Development builds say `0.1.0-dev`; `scripts/release.sh VERSION` (issue 17) is to write the
/// release's version here before its release build.
public enum BuildInfo {
    public static let version = "0.1.0-dev"
}
