// A hung test fails after a minute instead of holding up the run (the probe tests take well under a second).
[assembly: Timeout(60_000)]
