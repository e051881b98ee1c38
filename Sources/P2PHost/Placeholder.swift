public enum P2PHostModule {}
