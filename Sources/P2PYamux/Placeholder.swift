public enum P2PYamuxModule {}
