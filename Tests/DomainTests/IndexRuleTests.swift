import Domain
import Foundation
import Testing

@Suite("record_path parsing (segment start from the file name)", .timeLimit(.minutes(3)))
struct RecordPathPatternTests {
    @Test func defaultPatternGivesPathAndMicrosecondStart() throws {
        let pattern = RecordPathPattern("./recordings/%path/%Y-%m-%d_%H-%M-%S-%f")
        #expect(pattern.root == "recordings")
        let parsed = try pattern.parse("./recordings/live/test/2026-11-25_20-02-47-294696.mp4")
        #expect(parsed.path == "live/test")
        #expect(parsed.start == 1_795_636_967_294_696)
        #expect(try pattern.parse("recordings/a/b/c/2026-11-25_20-02-47-000001.ts").path == "a/b/c")
    }

    @Test func absolutePatternAsMediaMTXReportsIt() throws {
        let pattern = RecordPathPattern("/srv/mediamtx/rec/%path/%Y-%m-%d_%H-%M-%S-%f")
        #expect(pattern.root == "/srv/mediamtx/rec")
        let parsed = try pattern.parse("/srv/mediamtx/rec/live/test/2026-11-25_20-02-47-294696.mp4")
        #expect(parsed.path == "live/test")
        #expect(parsed.start == 1_795_636_967_294_696)
    }

    @Test func localTimeZoneEpochAndOffsetPatterns() throws {
        let shanghai = RecordPathPattern("/rec/%path/%Y-%m-%d_%H-%M-%S-%f", timeZone: TimeZone(identifier: "Asia/Shanghai")!)
        #expect(try shanghai.parse("/rec/cam/2026-11-26_04-02-47-294696.mp4").start == 1_795_636_967_294_696)
        let epoch = RecordPathPattern("/rec/%path/%s")
        #expect(try epoch.parse("/rec/cam/1795636967.mp4").start == 1_795_636_967_000_000)
        let zoned = RecordPathPattern("/rec/%path/%Y%m%d-%H%M%S%z")
        #expect(try zoned.parse("/rec/cam/20261126-040247+0800.mp4").start == 1_795_636_967_000_000)
        #expect(try zoned.parse("/rec/cam/20261125-200247Z.ts").start == 1_795_636_967_000_000)
    }

    @Test(arguments: [
        ("/etc/passwd", RecordPathPattern.Failure.outsideRoot),
        ("/srv/rec/../etc/2026-11-25_20-02-47-294696.mp4", .outsideRoot),
        ("/srv/recordings-other/cam/2026-11-25_20-02-47-294696.mp4", .outsideRoot),
        ("/srv/rec/cam/2026-11-25_20-02-47-294696.mkv", .notASegmentName),
        ("/srv/rec/cam/holiday.mp4", .notASegmentName),
        ("/srv/rec/cam/2026-13-25_20-02-47-294696.mp4", .notASegmentName),
        ("/srv/rec/2026-11-25_20-02-47-294696.mp4", .notASegmentName),
    ])
    func refused(file: String, failure: RecordPathPattern.Failure) {
        let pattern = RecordPathPattern("/srv/rec/%path/%Y-%m-%d_%H-%M-%S-%f")
        #expect(throws: failure) { try pattern.parse(file) }
    }
}

@Suite("recording sessions", .timeLimit(.minutes(3)))
struct SessionMergeTests {
    func segment(_ start: Double, _ duration: Double?, _ state: SegmentState = .complete) -> Segment {
        Segment(id: 0, pathName: "p", filePath: nil, start: Int64(start * 1_000_000), duration: duration, size: nil, state: state)
    }

    @Test func touchingAndOverlappingSegmentsMergeGapsSplit() {
        // Wall-clock names and media durations need not add up (observed: 2.046 s segment, next named 0.4 ms later).
        let sessions = mergeSessions(
            [
                segment(0, 2.046), segment(0.0004, 2.006), segment(1.989, 1.997), segment(4.5, 2), segment(10, 2), segment(12.2, nil, .recording),
            ], gap: 1_000_000)
        #expect(sessions.count == 2)
        #expect(sessions[0].start == 0)
        #expect(sessions[0].end == 6_500_000)
        #expect(sessions[0].segmentCount == 4)
        #expect(sessions[0].open == false)
        #expect(sessions[1].segmentCount == 2)
        #expect(sessions[1].open)
        #expect(mergeSessions([], gap: 1).isEmpty)
    }
}
