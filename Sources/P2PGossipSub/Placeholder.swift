public enum P2PGossipSubModule {}
