import Foundation
import Kafka
import Logging
import Monitoring
import Postgres
import Replication
import Synchronization
import Topology

/// `run`'s continuous reconciliation (`reconcile.continuous`): every `interval` it checks the payments committed in
/// `[now − lookback, now)` against what the target holds for good, and reports each check to an observer
/// (``RPOObserver/rpoChecked(_:)``: metrics and the `rpo_violation` alert) or that Postgres did not answer
/// (``RPOObserver/postgresReachable(_:)``: `postgres_unreachable`).
///
/// One check:
/// 1. takes the pair's event-index lock (``EventIndex/tryLock()``); when a manual `regionbridge reconcile` holds it,
///    the check is skipped;
/// 2. runs `committed_query` for the window into a session table;
/// 3. scans the new **source** records of `reconcile.topics` into the event index (the same index, cursors and
///    fingerprint as `regionbridge reconcile`, so each side goes on where the other stopped);
/// 4. decides: a committed payment is in the target iff a source record of its event has an offset below its
///    partition's `replicatedUpTo`, or the index holds a target copy of it (scanned by a manual reconcile). Every
///    other one is at risk: `not_replicated` when a source record of it is indexed, `never_published` when none is.
///    `replicatedUpTo` is the engine's (``ReplicatedPositions``, what `/v1/replicated` answers from) for the
///    partitions this instance copies; in group mode, for those other instances copy, it is read from the target:
///    one past the newest source offset the target partition holds committed (``TargetReader``, read_committed, as
///    a resuming owner reads it). A target that does not answer keeps the last positions read (they never move back).
///
/// In group mode one instance of the pair checks at a time: the one that leads the group (`leads`). Another that
/// starts to lead checks at once; one that stops leading drops its connection and reports ``RPOObserver/watchHeld(_:)``.
///
/// Postgres does only window-sized work: the committed query is bounded by the window (index it on the commit
/// time), and each committed payment is looked up in the index by `(pair, event_id)`.
///
/// Used from one thread at a time (``run(until:)``'s), hence `@unchecked Sendable`: its connection, clients and
/// cursors are never touched by two threads.
package final class ContinuousReconciler: @unchecked Sendable {
    /// Why a check gave no result.
    package enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// Postgres could not be reached, or one of the check's statements failed; the server's message.
        case postgres(String)
        /// The source cluster could not be read.
        case kafka(String)
        /// The bridge does not copy yet (``ReplicatedPositions`` has no picture): nothing can be proven.
        case notReady(String)
        /// A manual `regionbridge reconcile` of the pair holds the event index.
        case locked

        package var description: String {
            switch self {
            case .postgres(let message): "Postgres: \(message)"
            case .kafka(let message): message
            case .notReady(let why): why
            case .locked: "a regionbridge reconcile of the pair holds the event index"
            }
        }
    }

    private let clients: ClusterClients
    private var topology: Topology { clients.topology }
    private let settings: ReconcileSettings
    private let continuous: ContinuousReconcileSettings
    private let positions: ReplicatedPositions
    private let observer: any ReplicationObserver
    private let rpoObserver: any RPOObserver
    private let requestTimeout: Duration
    private let logger: Logger
    /// Whether this instance holds the pair's watch now (group mode: it leads the group).
    private let leads: @Sendable () -> Bool
    /// Group mode: the partitions other instances copy are read from the target.
    private let readsTarget: Bool
    /// Whether the watch was held at the last look (nil before the first).
    private var held: Bool?
    private var targetReader: TargetReader?
    /// Group mode: the last `replicatedUpTo` read from the target per source partition.
    private var fromTarget: [TopicPartition: Int64] = [:]
    /// The target did not answer the last read of positions (what it said); nil while it answers.
    private var targetUnreadable: String?

    private var db: PostgresConnection?
    private var index: EventIndex?
    private var scanner: EventScanner?
    /// The failure kind of the streak of failed checks going on, to log its first one as an error only.
    private var failing: String?
    /// The source did not answer the last check (what it said); nil while it answers.
    private var sourceUnreachable: String?
    /// Since when the check thread waits for Postgres (nil while it does not): read by ``reportStall()``
    /// from another thread, hence the lock.
    private let waitingSince = Mutex<ContinuousClock.Instant?>(nil)
    /// ``reportStall()`` logged the stall going on.
    private let stallLogged = Atomic<Bool>(false)

    /// - Parameters:
    ///   - clients: the command's shared clients (the source's metadata; the scanner is the watch's own consumer).
    ///   - positions: the engine's replicated positions (the ones `/v1/replicated` uses).
    ///   - observer: gets the kinds of the checks' errors (`postgres_unreachable`, `rpo_check_failed`).
    ///   - rpoObserver: gets each check's result, and whether Postgres answered.
    ///   - requestTimeout: of one Kafka request, and the longest a source scan may go without progress.
    ///   - leads: whether this instance holds the watch now; default always (single mode).
    ///   - readsTarget: group mode: positions of partitions this instance does not copy are read from the target.
    /// - Throws: ``ReconcileError`` `.configuration` when the topology has no `reconcile.continuous`.
    package init(
        clients: ClusterClients, positions: ReplicatedPositions, observer: any ReplicationObserver, rpoObserver: any RPOObserver,
        requestTimeout: Duration = .seconds(10), leads: @escaping @Sendable () -> Bool = { true }, readsTarget: Bool = false,
        logger: Logger
    ) throws(ReconcileError) {
        guard let settings = clients.topology.reconcile, let continuous = settings.continuous else {
            throw ReconcileError(.configuration, "the topology has no reconcile.continuous section")
        }
        self.clients = clients
        self.settings = settings
        self.continuous = continuous
        self.positions = positions
        self.observer = observer
        self.rpoObserver = rpoObserver
        self.requestTimeout = requestTimeout
        self.leads = leads
        self.readsTarget = readsTarget
        self.logger = logger
    }

    /// Checks every `interval` until `stop`, reporting each check to the observer; blocks the calling thread.
    /// The first check runs at once. A check that fails is logged and reported, and the next one tries again
    /// (with a new Postgres connection after a Postgres failure).
    package func run(until stop: StopSignal) {
        let clock = ContinuousClock()
        var next = clock.now
        while !stop.isStopped {
            let holds = leads()
            if holds != held {
                held = holds
                rpoObserver.watchHeld(holds)
                if holds {
                    if readsTarget { logger.notice("continuous reconciliation of pair \(topology.pair): this instance leads the group and checks for all of it") }
                    next = clock.now
                } else {
                    if readsTarget { logger.notice("continuous reconciliation of pair \(topology.pair): another instance leads the group and checks now") }
                    disconnect()
                    scanner = nil
                    targetReader = nil
                }
            }
            if holds, clock.now >= next {
                let started = clock.now
                // Not copying yet (just started): the first picture of the positions comes within a second or two.
                let ready = checkAndReport(at: Date())
                next = started + (ready ? continuous.interval : min(continuous.interval, .seconds(1)))
            }
            Thread.sleep(forTimeInterval: min(0.05, max(0.001, (next - clock.now).seconds)))
        }
        disconnect()
    }

    /// One check, reported to the observer and logged.
    /// - Returns: false when the bridge did not copy yet (the check is worth trying again soon).
    @discardableResult
    func checkAndReport(at now: Date) -> Bool {
        do throws(Failure) {
            let result = try check(at: now)
            if failing != nil { logger.notice("continuous reconciliation of pair \(topology.pair) checks again") }
            failing = nil
            rpoObserver.rpoChecked(result)
            logger.debug("continuous reconciliation checked", metadata: [
                "at_risk": "\(result.atRisk.payments)", "violating": "\(result.violation.payments)",
                "seconds": "\(result.durationSeconds)",
            ])
        } catch {
            report(error)
            if case .notReady = error { return false }
        }
        return true
    }

    private func report(_ failure: Failure) {
        let kind: String
        switch failure {
        case .postgres:
            kind = "postgres"
            rpoObserver.postgresReachable(false)
            observer.error(kind: "postgres_unreachable")
            disconnect()
        case .kafka:
            kind = "kafka"
            if db != nil { rpoObserver.postgresReachable(true) }
            observer.error(kind: "rpo_check_failed")
        case .notReady:
            kind = "not_ready"
            if db != nil { rpoObserver.postgresReachable(true) }
        case .locked:
            kind = "locked"
            rpoObserver.postgresReachable(true)
        }
        let level: Logger.Level = failing == kind ? .debug : (kind == "postgres" || kind == "kafka" ? .error : .notice)
        failing = kind
        logger.log(level: level, "continuous reconciliation of pair \(topology.pair): check skipped: \(failure); the next one in \(continuous.interval) tries again")
    }

    /// Runs one check of `[now − lookback, now)`.
    /// - Throws: ``Failure``: Postgres, the source, or the bridge not copying yet; or the index locked by a reconcile.
    package func check(at now: Date) throws(Failure) -> RPOCheckResult {
        let started = ContinuousClock.now
        let source = try sourcePartitions()
        let (db, index) = try connection()
        guard try postgres({ try index.tryLock() }) else { throw .locked }
        defer { try? index.unlock() }
        let queries = RPOWatchQueries(db: db, schema: settings.stateSchema, pair: topology.pair, settings: settings)
        try postgres { try queries.loadCommitted(from: now.addingTimeInterval(-continuous.lookback.seconds), to: now) }
        let partitions: [TopicPartition]
        switch source {
        case .partitions(let found):
            partitions = found
            try scanSource(partitions, into: index)
            if sourceUnreachable != nil {
                logger.notice("continuous reconciliation of pair \(topology.pair): the source cluster answers again")
                sourceUnreachable = nil
            }
        case .unreachable(let why):
            // The source region is gone (or cut off): what it held is known up to the last scan, and the engine
            // still knows what the target acknowledged. Those answer "what would we lose" now, when it matters.
            partitions = try indexedSourcePartitions(index)
            if sourceUnreachable == nil {
                logger.warning("continuous reconciliation of pair \(topology.pair): \(why); answering from the event index and the bridge's acknowledged positions until it answers")
            }
            sourceUnreachable = why
        }
        var upTo: [(TopicPartition, Int64)] = []
        var elsewhere: [TopicPartition] = []
        for partition in partitions {
            switch positions.lookup(partition) {
            case .unavailable(let why): throw .notReady(why)
            case .notHere where readsTarget: elsewhere.append(partition)
            case .notHere: upTo.append((partition, 0))  // single mode: not copied (yet): nothing of it is proven
            case .position(let position): upTo.append((partition, position.replicatedUpTo))
            }
        }
        if !elsewhere.isEmpty {
            readTargetPositions(elsewhere)
            upTo += elsewhere.map { ($0, fromTarget[$0] ?? 0) }
        }
        var result = try postgres {
            try queries.evaluate(at: now, maxAge: continuous.maxAge, replicatedUpTo: upTo, sourceReachable: sourceUnreachable == nil)
        }
        result.durationSeconds = (ContinuousClock.now - started).seconds
        return result
    }

    /// Group mode: reads how far the target holds each of `partitions` (copied by other instances) into
    /// `fromTarget`. A target that does not answer leaves the last positions read, logged once per outage.
    private func readTargetPositions(_ partitions: [TopicPartition]) {
        do {
            if targetReader == nil { targetReader = try clients.reader(.target, job: "rpo-watch", timeout: requestTimeout) }
            let pairs = partitions.map { (target: topology.targetPartition(of: $0), source: SourcePartition(region: topology.source.region, partition: $0)) }
            let found = try targetReader!.lastCopied(pairs)
            for (target, source) in pairs {
                guard let last = found[target] ?? nil else { continue }
                fromTarget[source.partition] = max(fromTarget[source.partition] ?? 0, last + 1)
            }
            if targetUnreadable != nil {
                logger.notice("continuous reconciliation of pair \(topology.pair): the target answers again")
                targetUnreadable = nil
            }
        } catch {
            targetReader = nil
            if targetUnreadable == nil {
                logger.warning("continuous reconciliation of pair \(topology.pair): cannot read the positions of the partitions other instances copy from target \(topology.target.region): \(error); their last positions read stand until it answers")
            }
            targetUnreadable = "\(error)"
        }
    }

    /// The source partitions of `reconcile.topics` the event index has scanned (its cursors).
    private func indexedSourcePartitions(_ index: EventIndex) throws(Failure) -> [TopicPartition] {
        let fingerprint = Reconciler.fingerprint(topology: topology, settings: settings)
        let (cursors, _) = try postgres { try index.cursors(fingerprint: fingerprint) }
        return cursors.keys.filter { $0.side == .source && settings.topics.contains($0.partition.topic) }.map(\.partition).sorted()
    }

    /// What the source said about the partitions of `reconcile.topics`.
    private enum SourceAnswer {
        case partitions([TopicPartition])
        /// No broker answered, or the metadata request timed out (librdkafka's numeric codes); why, in words.
        case unreachable(String)
    }

    /// The partitions of `reconcile.topics` in the source, or that it does not answer.
    /// - Throws: ``Failure/kafka(_:)`` for any other failure (a topic missing, a bad setting).
    private func sourcePartitions() throws(Failure) -> SourceAnswer {
        do {
            var partitions: [TopicPartition] = []
            let topics = try clients.topics(.source, timeout: requestTimeout)
            for topic in settings.topics {
                guard let found = topics.first(where: { $0.name == topic && $0.errorName == nil }) else {
                    throw ReconcileError(.unreachable, "reconcile.topics names \(topic), which does not exist in the source cluster \(topology.source.region)")
                }
                partitions += found.partitions.map { TopicPartition(topic, $0) }
            }
            return .partitions(partitions.sorted())
        } catch let error as ReconcileError {
            throw .kafka(error.message)
        } catch {
            let message = "cannot reach the source cluster \(topology.source.region) at \(topology.source.bootstrapServers): \(error)"
            guard (error as? KafkaError)?.isUnreachable == true else { throw .kafka(message) }
            return .unreachable(message)
        }
    }

    /// The open connection and index, opened (tables and session tables made) when there is none.
    private func connection() throws(Failure) -> (PostgresConnection, EventIndex) {
        if let db, let index { return (db, index) }
        let (db, index) = try postgres { () throws -> (PostgresConnection, EventIndex) in
            let db = try PostgresConnection.connect(settings.postgresDSN.reveal(), defaults: Self.connectionDefaults, logger: logger)
            let index = EventIndex(db: db, schema: settings.stateSchema, pair: topology.pair, compared: settings.compare)
            try index.createTables()
            try RPOWatchQueries.prepareSession(db, statementTimeout: statementTimeout)
            return (db, index)
        }
        self.db = db
        self.index = index
        return (db, index)
    }

    private func disconnect() {
        index = nil
        db = nil  // closes the connection, and with it any lock it held
    }

    /// Scans the new source records of `partitions` into the index, from the stored cursors (the log start when the
    /// log no longer holds one), and stores the new cursors with them in one transaction.
    private func scanSource(_ partitions: [TopicPartition], into index: EventIndex) throws(Failure) {
        let fingerprint = Reconciler.fingerprint(topology: topology, settings: settings)
        let (cursors, reset) = try postgres { try index.cursors(fingerprint: fingerprint) }
        if reset { logger.notice("continuous reconciliation: the reconcile section changed; the event index of pair \(topology.pair) starts over") }
        do {
            if scanner == nil {
                scanner = try EventScanner(
                    configuration: clients.configuration(.source, job: "rpo-watch"),
                    groupID: "regionbridge.\(topology.pair).reconcile", cluster: "source \(topology.source.region)",
                    timeout: requestTimeout, logger: logger)
            }
        } catch {
            throw .kafka(error.message)
        }
        let scanner = scanner!
        var starts: [TopicPartition: Int64] = [:]
        do {
            for partition in partitions {
                let (low, _) = try scanner.watermarks(partition)
                let cursor = cursors[ScannedPartition(.source, partition)] ?? 0
                if cursor < low {
                    logger.warning("continuous reconciliation: source \(partition): offsets \(cursor) to \(low - 1) were deleted before they were indexed; payments whose only records were there count as never published")
                }
                starts[partition] = max(cursor, low)
            }
        } catch {
            throw .kafka(error.message)
        }
        let reader = PaymentEventReader(eventID: settings.eventID, compared: settings.compare.map(\.field))
        var stored = 0
        do {
            // The COPY lasts as long as the scan (the first one reads the whole history): no statement timeout for it.
            try db?.execute("SET statement_timeout = 0")
            defer { try? db?.execute("SET statement_timeout = '\(Int64(statementTimeout.seconds * 1000))ms'") }
            // Statistics are refreshed only after a large fill (the first scan, a burst): ANALYZE samples up to 30,000
            // pages of the index whatever was added, a cost of the history, not of the window.
            try index.store(analyze: false) { writer in
                let ends = try scanner.scan(from: starts, progress: { _ in }) { record in
                    guard let event = reader.event(in: record) else { return }
                    try writer.append(.source, record, sourceOffset: record.offset, event: event)
                    stored += 1
                }
                return Dictionary(uniqueKeysWithValues: ends.map { (ScannedPartition(.source, $0.key), $0.value) })
            }
            if stored >= Self.analyzeAfter { try index.analyze() }
        } catch let error as ReconcileError {
            self.scanner = nil  // a scan cut short leaves partitions assigned: the next check starts with a new consumer
            throw .kafka(error.message)
        } catch {
            self.scanner = nil
            throw .postgres("cannot store scanned events: \(error)")
        }
    }

    /// libpq parameters for the watch's connection unless the DSN sets them: a server that does not answer (a host
    /// down, packets dropped) fails the check within seconds instead of holding it for the kernel's TCP timeouts
    /// (minutes to hours): 10 s to connect, dead-peer detection by keepalives after 10 + 3 × 5 s of silence, and
    /// unacknowledged writes given up after 30 s.
    static let connectionDefaults: [(String, String)] = [
        ("connect_timeout", "10"), ("keepalives", "1"), ("keepalives_idle", "10"), ("keepalives_interval", "5"),
        ("keepalives_count", "3"), ("tcp_user_timeout", "30000"),
    ]

    /// Every statement's `statement_timeout`: `max(interval, 30s)`.
    var statementTimeout: Duration { max(continuous.interval, .seconds(30)) }

    /// How long one Postgres call may wait before ``reportStall()`` counts Postgres as unreachable: the statement
    /// timeout and 5 s more. Only a server that cannot enforce its own timeout (hung, or its host cut off before
    /// the keepalives tell) keeps a call waiting that long.
    package var stallAfter: Duration { statementTimeout + .seconds(5) }

    /// Called about once a second from another thread than ``run(until:)``'s: while the check has waited for one
    /// Postgres call longer than ``stallAfter``, reports Postgres unreachable (so `postgres_unreachable` fires after
    /// `lag.for` although the check never returns), and logs it once per stall.
    package func reportStall() {
        guard let since = waitingSince.withLock({ $0 }), ContinuousClock.now - since > stallAfter else { return }
        rpoObserver.postgresReachable(false)
        if !stallLogged.exchange(true, ordering: .relaxed) {
            observer.error(kind: "postgres_unreachable")
            logger.error("continuous reconciliation of pair \(topology.pair): Postgres has not answered a statement for \(stallAfter) (the server hangs, or its host is cut off); replication goes on")
        }
    }

    /// How many newly indexed records make a check refresh the index's statistics.
    static let analyzeAfter = 10_000

    /// Runs Postgres statements, turning their errors into ``Failure/postgres(_:)`` with the server's message.
    private func postgres<T>(_ body: () throws -> T) throws(Failure) -> T {
        waitingSince.withLock { $0 = .now }
        defer {
            waitingSince.withLock { $0 = nil }
            stallLogged.store(false, ordering: .relaxed)
        }
        do {
            return try body()
        } catch let error as Failure {
            throw error
        } catch {
            throw .postgres("\(error)")
        }
    }
}
