import Topology

/// The reverse pair's topology, as the drill found it.
package enum FailbackCandidate: Sendable, Equatable {
    /// A file that validates and whose regions are this pair's, swapped.
    case found(file: String, topology: Topology)
    /// A file meant as the failback topology (named with `--failback`, or `<target>-to-<source>.yaml` in the
    /// folder) that cannot be read or does not validate; `problems` are its issues with file, line and key.
    case invalid(file: String, problems: String)
    /// No file in `folder` is a topology of the reverse pair; `searched` are the files looked at.
    case missing(folder: String, searched: [String])
}

/// Failback path: a topology for the reverse pair exists, validates, names the same clusters the other way round,
/// and would not copy records back to where they came from while both pairs run.
package enum FailbackCheck {
    /// The line for the candidate.
    /// - Parameters:
    ///   - forward: this pair.
    ///   - sourceTopics: the topics of this pair's source cluster (the failback's target), when it answered.
    ///   - targetTopics: the topics of this pair's target cluster (the failback's source), when it answered.
    package static func check(forward: Topology, candidate: FailbackCandidate, sourceTopics: [String]?, targetTopics: [String]?) -> DrillCheck {
        let wanted = "\(forward.target.region) -> \(forward.source.region)"
        switch candidate {
        case let .missing(folder, searched):
            let looked = searched.isEmpty ? "no other topology file there" : "looked at \(searched.joined(separator: ", "))"
            return DrillCheck(.failback, "reverse pair \(wanted)", "missing", .fail,
                              cause: "no topology for the reverse pair \(wanted) in \(folder) (\(looked)); write one or name it with --failback FILE",
                              action: FirstStep(.failback, "write the reverse pair's topology (\(wanted)) or name it with --failback FILE"))
        case let .invalid(file, problems):
            return DrillCheck(.failback, file, "does not validate", .fail, cause: "failback topology \(file) does not validate:\n\(problems)")
        case let .found(file, reverse):
            var causes: [String] = []
            if reverse.source.region != forward.target.region || reverse.target.region != forward.source.region {
                causes.append("\(file) copies \(reverse.source.region) -> \(reverse.target.region), not \(wanted)")
            }
            if Set(reverse.source.normalizedBootstrapServers).isDisjoint(with: forward.target.normalizedBootstrapServers) {
                causes.append("its source.bootstrap_servers share no address with this pair's target.bootstrap_servers (\(forward.target.region))")
            }
            if Set(reverse.target.normalizedBootstrapServers).isDisjoint(with: forward.source.normalizedBootstrapServers) {
                causes.append("its target.bootstrap_servers share no address with this pair's source.bootstrap_servers (\(forward.source.region))")
            }
            causes += loops(forward: forward, reverse: reverse, sourceTopics: sourceTopics, targetTopics: targetTopics)
            let figure = "pair \(reverse.pair), \(reverse.source.region) -> \(reverse.target.region)"
            if !causes.isEmpty {
                return DrillCheck(.failback, file, figure, .fail, cause: "failback topology \(file): " + causes.joined(separator: "; "))
            }
            let unchecked = sourceTopics == nil || targetTopics == nil
            return unchecked
                ? DrillCheck(.failback, file, figure + "; validates", .warn, cause: "the loop check needs both clusters' topic lists, and one did not answer")
                : DrillCheck(.failback, file, figure + "; validates, no loop", .pass)
        }
    }

    /// Topics that would travel back to the region they came from if both pairs ran: a copy this pair makes that
    /// the reverse pair selects, or a copy the reverse pair makes that this pair selects.
    static func loops(forward: Topology, reverse: Topology, sourceTopics: [String]?, targetTopics: [String]?) -> [String] {
        var found: [String] = []
        for topic in (sourceTopics ?? []).sorted() where forward.topics.selects(topic) {
            let copy = forward.topics.rename.targetTopic(for: topic, sourceRegion: forward.source.region)
            if reverse.topics.selects(copy) {
                found.append("it would copy \(copy) (this pair's copy of \(topic)) back to \(forward.source.region): a replication loop")
            }
        }
        for topic in (targetTopics ?? []).sorted() where reverse.topics.selects(topic) {
            let copy = reverse.topics.rename.targetTopic(for: topic, sourceRegion: reverse.source.region)
            if forward.topics.selects(copy) {
                found.append("this pair would copy \(copy) (its copy of \(topic)) back to \(forward.target.region): a replication loop")
            }
        }
        return found
    }
}
