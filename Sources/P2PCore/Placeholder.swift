public enum P2PCoreModule {}
