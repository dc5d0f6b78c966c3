import Kafka
import NIOConcurrencyHelpers
import NIOCore
import Replication

/// `/v1/replicated` on the monitoring server: parks each request on its connection's event loop (no thread per
/// wait) until ``ReplicatedPositions`` says the records are acknowledged by the target, the timeout runs out (a task
/// scheduled on the event loop), or the bridge can no longer answer.
package struct ReplicatedEndpoint: Sendable {
    /// The path served.
    package static let path = "/v1/replicated"

    private let positions: ReplicatedPositions
    private let metrics: SyncWaitMetrics?

    /// Creates the endpoint.
    /// - Parameters:
    ///   - positions: the engine's acknowledged positions.
    ///   - metrics: where waits are counted and timed; none by default.
    package init(positions: ReplicatedPositions, metrics: SyncWaitMetrics? = nil) {
        self.positions = positions
        self.metrics = metrics
    }

    /// An answer on its way, and how to give it up when the client goes away.
    package struct Pending: Sendable {
        /// Completes, on the event loop given, with the response.
        package let response: EventLoopFuture<MonitoringResponse>
        /// Takes back every wait still parked; the response then completes with 503. Safe to call any time.
        package let cancel: @Sendable () -> Void
    }

    /// Answers a request, at once or when its records are acknowledged or the timeout runs out.
    package func respond(method: String, uri: String, body: [UInt8], on eventLoop: any EventLoop) -> Pending {
        let start = ContinuousClock.now
        let positions = self.positions
        let request: ReplicatedRequest
        switch ReplicatedRequest.parse(method: method, uri: uri, body: body) {
        case .failure(let error):
            metrics?.answered("bad_request", waited: .zero)
            return Pending(response: eventLoop.makeSucceededFuture(ReplicatedAnswer.response(to: error)), cancel: {})
        case .success(let parsed):
            request = parsed
        }
        // A record this instance cannot answer for decides the request at once: no wait for the others.
        for record in request.records {
            switch positions.lookup(record.source) {
            case .notHere, .unavailable:
                let waits = request.records.map { record -> RecordWait in
                    switch positions.lookup(record.source) {
                    case .notHere: .notHere
                    case .unavailable(let why): .unavailable(why, nil)
                    case .position(let position):
                        record.offset < position.replicatedUpTo
                            ? .replicated(position) : .unavailable("not waited for: another record of the request cannot be answered here", position)
                    }
                }
                return answer(request, waits, start: start, eventLoop: eventLoop)
            case .position:
                continue
            }
        }
        metrics?.started()
        let deadline = NIODeadline.now() + TimeAmount.nanoseconds(Int64(request.timeout.components.seconds) * 1_000_000_000 + request.timeout.components.attoseconds / 1_000_000_000)
        var futures: [EventLoopFuture<RecordWait>] = []
        futures.reserveCapacity(request.records.count)
        let parked = NIOLockedValueBox<[(UInt64, EventLoopPromise<RecordWait>)]>([])
        for record in request.records {
            let promise = eventLoop.makePromise(of: RecordWait.self)
            let registration = positions.wait(for: record.source, offset: record.offset) { outcome in
                promise.succeed(RecordWait(outcome))
            }
            switch registration {
            case .decided(let outcome):
                promise.succeed(RecordWait(outcome))
            case .parked(let id):
                parked.withLockedValue { $0.append((id, promise)) }
                let timer = eventLoop.scheduleTask(deadline: deadline) {
                    guard positions.cancel(id) else { return }  // answered meanwhile
                    if case .position(let position) = positions.lookup(record.source) {
                        promise.succeed(.timedOut(position))
                    } else {
                        promise.succeed(.timedOut(nil))
                    }
                }
                promise.futureResult.whenComplete { _ in timer.cancel() }
            }
            futures.append(promise.futureResult)
        }
        let pending = answer(request, futures, start: start, eventLoop: eventLoop)
        return Pending(response: pending) {
            for (id, promise) in parked.withLockedValue({ $0 }) where positions.cancel(id) {
                promise.succeed(.abandoned)
            }
        }
    }

    private func answer(_ request: ReplicatedRequest, _ futures: [EventLoopFuture<RecordWait>], start: ContinuousClock.Instant, eventLoop: any EventLoop) -> EventLoopFuture<MonitoringResponse> {
        let metrics = self.metrics
        return EventLoopFuture.whenAllSucceed(futures, on: eventLoop).map { waits in
            let waited = ContinuousClock.now - start
            metrics?.finished(ReplicatedAnswer.outcome(of: waits), waited: waited)
            return ReplicatedAnswer.response(to: request, waits: waits, waitedMilliseconds: Self.milliseconds(waited))
        }
    }

    private func answer(_ request: ReplicatedRequest, _ waits: [RecordWait], start: ContinuousClock.Instant, eventLoop: any EventLoop) -> Pending {
        let waited = ContinuousClock.now - start
        metrics?.answered(ReplicatedAnswer.outcome(of: waits), waited: waited)
        return Pending(response: eventLoop.makeSucceededFuture(ReplicatedAnswer.response(to: request, waits: waits, waitedMilliseconds: Self.milliseconds(waited))), cancel: {})
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}
