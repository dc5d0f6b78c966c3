enum MonitoringPlaceholder {}
