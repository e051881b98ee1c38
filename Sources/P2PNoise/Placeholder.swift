public enum P2PNoiseModule {}
