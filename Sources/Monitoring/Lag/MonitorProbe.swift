import Foundation
import Logging
import Replication
import ServiceLifecycle
import Topology

/// Looks at both clusters every `interval`, from outside the engine, and tells an observer what it saw:
/// whether each cluster answers (``ReplicationObserver/clusterReachable(_:_:)``) and, when asked to,
/// every partition's lag as `regionbridge lag` measures it (``ReplicationObserver/lag(partition:records:seconds:)``).
///
/// It keeps readiness, the cluster-unreachable alert and, until the engine reports lag itself, the lag gauges
/// and alerts going. A `Service`: blocking client calls run on a dedicated thread; it stops on graceful shutdown.
package struct MonitorProbe: Service, CustomStringConvertible {
    private let clients: ClusterClients
    private var topology: Topology { clients.topology }
    private let observer: any ReplicationObserver
    private let interval: Duration
    private let timeout: Duration
    private let measuresLag: Bool
    private let logger: Logger

    /// Creates a probe.
    /// - Parameters:
    ///   - clients: the command's shared clients (the pair; its admin clients answer the reachability requests).
    ///   - observer: told what the probe sees.
    ///   - interval: time between looks. Default 10 s.
    ///   - timeout: how long a cluster may take to answer before it counts as unreachable. Default 5 s.
    ///   - measuresLag: also measure lag (reads each target partition's tail once per look). Default `true`.
    ///   - logger: where librdkafka's log lines and probe failures go.
    package init(
        clients: ClusterClients, observer: any ReplicationObserver, interval: Duration = .seconds(10),
        timeout: Duration = .seconds(5), measuresLag: Bool = true, logger: Logger
    ) {
        self.clients = clients
        self.observer = observer
        self.interval = interval
        self.timeout = timeout
        self.measuresLag = measuresLag
        self.logger = logger
    }

    /// `MonitorProbe(pair: <pair>)`: no configuration, so that logging the service (swift-service-lifecycle does,
    /// at debug and trace level) never shows a cluster property.
    package var description: String { "MonitorProbe(pair: \(topology.pair))" }

    /// Looks once per interval until graceful shutdown or cancellation.
    ///
    /// A look that waits for a cluster that does not answer (up to `timeout` per request) is not waited for at
    /// shutdown: it ends by itself on its thread, and no other look starts.
    package func run() async throws {
        let reader = LagReader(clients: clients, timeout: timeout)
        let box = ReaderBox(reader: reader)
        let stop = StopSignal()
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                while !stop.isStopped {
                    let (topology, observer, measuresLag, logger) = (topology, observer, measuresLag, logger)
                    await onDedicatedThread(name: "regionbridge-probe", until: stop, grace: .zero) {
                        Self.look(box.reader, topology: topology, observer: observer, measuresLag: measuresLag, logger: logger)
                    }
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
                }
            } onGracefulShutdown: {
                stop.stop()
            }
        } onCancel: {
            stop.stop()
        }
    }

    /// One look at both clusters; never throws (what fails is reported as unreachable or logged).
    static func look(
        _ reader: LagReader, topology: Topology, observer: any ReplicationObserver, measuresLag: Bool, logger: Logger
    ) {
        let looks = [(ClusterRole.source, reader.look(.source)), (.target, reader.look(.target))]
        for (cluster, look) in looks {
            observer.clusterRefuses(cluster, look.refusal)
            observer.clusterReachable(cluster, look.reachable)
        }
        guard measuresLag, looks.allSatisfy(\.1.reachable) else { return }
        do {
            for lag in try reader.report().partitions {
                guard let seconds = lag.secondsBehind else { continue }
                observer.lag(partition: lag.source, records: lag.recordsBehind, seconds: seconds)
            }
        } catch {
            logger.warning("cannot measure lag of pair \(topology.pair): \(error)")
        }
    }
}

/// Hands the reader (used by one thread at a time) to the probe's thread.
private final class ReaderBox: @unchecked Sendable {
    // @unchecked Sendable: `run` uses the reader from one dedicated thread at a time, waiting for each look.
    let reader: LagReader
    init(reader: LagReader) { self.reader = reader }
}
