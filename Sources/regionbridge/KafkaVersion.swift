import Kafka

enum KafkaVersion {
    static var runtime: String { librdkafkaVersion }
}
