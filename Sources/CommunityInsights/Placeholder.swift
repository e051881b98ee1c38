public enum CommunityInsightsModule {}
