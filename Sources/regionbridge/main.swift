print("regionbridge")
