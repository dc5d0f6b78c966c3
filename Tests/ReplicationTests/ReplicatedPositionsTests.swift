import Foundation
import Kafka
import Replication
import Synchronization
import XCTest

/// The acknowledged positions and the waits parked on them, without an engine.
final class ReplicatedPositionsTests: XCTestCase {
    private let p0 = TopicPartition("payments", 0)
    private let p1 = TopicPartition("payments", 1)
    private let t0 = TopicPartition("us-east.payments", 0)
    private let t1 = TopicPartition("us-east.payments", 1)

    /// Collects completions in the order they are called.
    private final class Log: Sendable {
        let entries = Mutex<[(String, ReplicatedPositions.Outcome)]>([])
        func callback(_ name: String) -> @Sendable (ReplicatedPositions.Outcome) -> Void {
            { outcome in self.entries.withLock { $0.append((name, outcome)) } }
        }
        var names: [String] { entries.withLock { $0.map(\.0) } }
        var outcomes: [ReplicatedPositions.Outcome] { entries.withLock { $0.map(\.1) } }
    }

    private func started(_ upTo: Int64 = 10) -> ReplicatedPositions {
        let positions = ReplicatedPositions()
        positions.publish([
            .init(source: p0, target: t0, replicatedUpTo: upTo),
            .init(source: p1, target: t1, replicatedUpTo: upTo),
        ])
        return positions
    }

    private func parkedID(_ registration: ReplicatedPositions.Registration, file: StaticString = #filePath, line: UInt = #line) -> UInt64? {
        guard case .parked(let id) = registration else {
            XCTFail("expected a parked wait, got \(registration)", file: file, line: line)
            return nil
        }
        return id
    }

    func testBeforeTheFirstPictureEveryWaitIsUnavailable() {
        let positions = ReplicatedPositions()
        let log = Log()
        XCTAssertEqual(positions.wait(for: p0, offset: 0, log.callback("a")), .decided(.unavailable(ReplicatedPositionsTests.notStarted, nil)))
        positions.advance(p0, target: t0, to: 5)  // not started: not taken as the picture
        XCTAssertEqual(positions.lookup(p0), .unavailable(ReplicatedPositionsTests.notStarted))
        XCTAssertEqual(log.names, [])
    }

    static let notStarted = "the bridge is not ready yet (it has not started copying)"

    func testAnOffsetBelowThePositionIsAnsweredAtOnceAndOneAtItWaits() {
        let positions = started(10)
        let log = Log()
        XCTAssertEqual(positions.wait(for: p0, offset: 9, log.callback("a")),
                       .decided(.replicated(.init(source: p0, target: t0, replicatedUpTo: 10))))
        _ = parkedID(positions.wait(for: p0, offset: 10, log.callback("b")))
        XCTAssertEqual(positions.parked, 1)
        XCTAssertEqual(log.names, [])
    }

    func testAnUnknownPartitionIsNotHere() {
        let positions = started()
        XCTAssertEqual(positions.wait(for: TopicPartition("ledger", 0), offset: 0, { _ in XCTFail("not called") }), .decided(.notHere))
        XCTAssertEqual(positions.lookup(TopicPartition("payments", 7)), .notHere)
    }

    func testAdvanceWakesTheWaitsBelowItInOffsetOrderAndNoOther() {
        let positions = started(10)
        let log = Log()
        for (name, offset) in [("o14", Int64(14)), ("o11", 11), ("o10", 10), ("o12", 12), ("o10b", 10), ("p1-10", -1)] {
            if offset < 0 { _ = parkedID(positions.wait(for: p1, offset: 10, log.callback(name))) } else {
                _ = parkedID(positions.wait(for: p0, offset: offset, log.callback(name)))
            }
        }
        positions.advance(p0, target: t0, to: 12)  // 10 and 11 are in; 12 is not
        XCTAssertEqual(log.names, ["o10", "o10b", "o11"])
        XCTAssertTrue(log.outcomes.allSatisfy { $0 == .replicated(.init(source: p0, target: t0, replicatedUpTo: 12)) }, "\(log.outcomes)")
        positions.advance(p0, target: t0, to: 12)  // nothing moved
        positions.advance(p0, target: t0, to: 11)  // never back
        XCTAssertEqual(log.names.count, 3)
        XCTAssertEqual(positions.lookup(p0), .position(.init(source: p0, target: t0, replicatedUpTo: 12)))
        positions.advance(p0, target: t0, to: 100)
        XCTAssertEqual(log.names, ["o10", "o10b", "o11", "o12", "o14"])
        XCTAssertEqual(positions.parked, 1, "the wait on partition 1 is still parked")
    }

    func testACancelledWaitIsNeverCompletedAndACompletedOneCannotBeCancelled() {
        let positions = started(10)
        let log = Log()
        guard let early = parkedID(positions.wait(for: p0, offset: 10, log.callback("early"))),
              let late = parkedID(positions.wait(for: p0, offset: 20, log.callback("late")))
        else { return }
        XCTAssertTrue(positions.cancel(late), "the timeout takes it back")
        XCTAssertFalse(positions.cancel(late))
        positions.advance(p0, target: t0, to: 30)
        XCTAssertEqual(log.names, ["early"])
        XCTAssertFalse(positions.cancel(early), "completed: the timeout must not answer it again")
        XCTAssertEqual(positions.parked, 0)
    }

    func testCloseAnswersEveryWaitUnavailableAndNeverReplicated() {
        let positions = started(10)
        let log = Log()
        _ = parkedID(positions.wait(for: p0, offset: 10, log.callback("a")))
        _ = parkedID(positions.wait(for: p1, offset: 50, log.callback("b")))
        positions.close("the bridge stopped copying (shut down or failed)")
        XCTAssertEqual(Set(log.names), ["a", "b"])
        for outcome in log.outcomes {
            guard case .unavailable(let why, _) = outcome else { return XCTFail("\(outcome)") }
            XCTAssertEqual(why, "the bridge stopped copying (shut down or failed)")
        }
        // After the close nothing moves and nothing is answered yes, not even what was acknowledged before.
        positions.advance(p0, target: t0, to: 100)
        positions.publish([.init(source: p0, target: t0, replicatedUpTo: 200)])
        XCTAssertEqual(log.names.count, 2)
        guard case .decided(.unavailable) = positions.wait(for: p0, offset: 0, { _ in XCTFail("not called") }) else {
            return XCTFail("a wait after the close is unavailable")
        }
        XCTAssertEqual(positions.parked, 0)
    }

    func testAStoppedPartitionAnswersItsWaitsAboveThePositionUnavailable() {
        let positions = started(10)
        let log = Log()
        _ = parkedID(positions.wait(for: p0, offset: 10, log.callback("in")))
        _ = parkedID(positions.wait(for: p0, offset: 15, log.callback("beyond")))
        positions.publish([
            .init(source: p0, target: t0, replicatedUpTo: 11, state: .stopped("stopped copying: gap")),
            .init(source: p1, target: t1, replicatedUpTo: 10),
        ])
        XCTAssertEqual(log.names, ["in", "beyond"])
        XCTAssertEqual(log.outcomes[0], .replicated(.init(source: p0, target: t0, replicatedUpTo: 11, state: .stopped("stopped copying: gap"))))
        guard case .unavailable("stopped copying: gap", _) = log.outcomes[1] else { return XCTFail("\(log.outcomes[1])") }
        guard case .decided(.unavailable("stopped copying: gap", _)) = positions.wait(for: p0, offset: 12, { _ in }) else {
            return XCTFail("a new wait beyond a stopped partition's position is unavailable")
        }
    }

    func testAPartitionNoLongerPublishedAnswersItsWaitsUnavailableThenIsNotHere() {
        let positions = started(10)
        let log = Log()
        _ = parkedID(positions.wait(for: p1, offset: 10, log.callback("handed-over")))
        positions.publish([.init(source: p0, target: t0, replicatedUpTo: 10)])
        XCTAssertEqual(log.names, ["handed-over"])
        guard case .unavailable(let why, _) = log.outcomes[0] else { return XCTFail("\(log.outcomes[0])") }
        XCTAssertTrue(why.contains("no longer copies payments/1"), why)
        XCTAssertEqual(positions.lookup(p1), .notHere)
    }

    func testThousandsOfWaitsAreWokenFromAnotherThreadExactlyOnce() {
        let positions = started(0)
        let count = 5_000
        let woken = Atomic<Int>(0)
        let cancelled = Atomic<Int>(0)
        var ids: [UInt64] = []
        for offset in 0..<count {
            if let id = parkedID(positions.wait(for: p0, offset: Int64(offset), { _ in woken.add(1, ordering: .relaxed) })) { ids.append(id) }
        }
        let done = DispatchSemaphore(value: 0)
        let (p0, t0) = (p0, t0)
        Thread.detachNewThread {
            for upTo in stride(from: Int64(1), through: Int64(count), by: 7) { positions.advance(p0, target: t0, to: upTo) }
            positions.advance(p0, target: t0, to: Int64(count))
            done.signal()
        }
        // Timeouts racing the engine: each wait is answered by exactly one of them.
        for id in ids.reversed() where positions.cancel(id) { cancelled.add(1, ordering: .relaxed) }
        done.wait()
        XCTAssertEqual(woken.load(ordering: .relaxed) + cancelled.load(ordering: .relaxed), count)
        XCTAssertEqual(positions.parked, 0)
    }
}
