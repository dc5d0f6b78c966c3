import Monitoring

/// The pair's heartbeats in the target, as the drill found them.
package enum HeartbeatFacts: Sendable, Equatable {
    /// No heartbeat topic in the target.
    case notConfigured
    /// The newest heartbeat's age in seconds; nil when the topic holds none.
    case age(Double?)
    /// The topic exists but could not be read.
    case unreadable(String)
}

/// Liveness: both clusters answer; when heartbeats exist, the newest is recent.
package enum LivenessCheck {
    /// The lines for both clusters and the heartbeats.
    /// - Parameters:
    ///   - sourceFailure, targetFailure: why a cluster did not answer its metadata request, if it did not.
    ///   - answered: how long each answer took, in seconds, for the figure.
    ///   - heartbeats: what the heartbeat topic holds.
    ///   - heartbeatTopic: its name.
    ///   - maxAgeSeconds: how old the newest heartbeat may be (`drill.max_lag_seconds`).
    package static func checks(
        source: (region: String, servers: String, failure: String?, seconds: Double),
        target: (region: String, servers: String, failure: String?, seconds: Double),
        heartbeats: HeartbeatFacts, heartbeatTopic: String, maxAgeSeconds: Double
    ) -> [DrillCheck] {
        var checks: [DrillCheck] = []
        for (side, cluster) in [("source", source), ("target", target)] {
            let subject = "\(side) \(cluster.region)"
            if let failure = cluster.failure {
                checks.append(DrillCheck(.liveness, subject, "no answer", .fail,
                                         cause: "the \(side) cluster \(cluster.region) at \(cluster.servers) does not answer: \(failure)",
                                         action: FirstStep(.clusterDown, "reach the \(side) cluster \(cluster.region) at \(cluster.servers): it does not answer")))
            } else {
                checks.append(DrillCheck(.liveness, subject, "answers (metadata in \(Figures.seconds(cluster.seconds)))", .pass))
            }
        }
        let limit = "max \(Figures.seconds(maxAgeSeconds))"
        switch heartbeats {
        case .notConfigured:
            checks.append(DrillCheck(.liveness, "heartbeats", "not configured (no \(heartbeatTopic) in \(target.region))", .skip))
        case .unreadable(let failure):
            checks.append(DrillCheck(.liveness, "heartbeats", "not read", .fail, cause: "cannot read \(heartbeatTopic) in \(target.region): \(failure)"))
        case .age(nil):
            checks.append(DrillCheck(.liveness, "heartbeats", "none in \(heartbeatTopic)", .fail,
                                     cause: "\(heartbeatTopic) in \(target.region) holds no heartbeat",
                                     action: FirstStep(.notCopying, "the bridge copies no heartbeat to \(target.region): start it or read its log")))
        case .age(let seconds?):
            let figure = "newest \(Figures.seconds(seconds)) old (\(limit))"
            checks.append(seconds > maxAgeSeconds
                ? DrillCheck(.liveness, "heartbeats", figure, .fail,
                             cause: "the newest heartbeat in \(heartbeatTopic) (\(target.region)) is \(Figures.seconds(seconds)) old (\(limit))",
                             action: FirstStep(.notCopying, "the bridge is not copying (newest heartbeat in \(target.region) \(LagWords.roughSeconds(seconds)) old): start it or read its log"))
                : DrillCheck(.liveness, "heartbeats", figure, .pass))
        }
        return checks
    }
}
