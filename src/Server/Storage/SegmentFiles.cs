namespace NativeKv.Server.Storage;

/// <summary>Segment files <c>{name}.N</c> as FASTER's devices name them (the log's and the AOF's devices share the layout).</summary>
internal static class SegmentFiles
{
    /// <summary>
    /// The segment range already on disk: the contiguous run of <c>{name}.N</c> that ends at the newest
    /// (what FASTER's own device reports on recovery); false when there is none.
    /// </summary>
    public static bool FindRange(string fileName, out int start, out int end)
    {
        start = end = 0;
        var file = new FileInfo(fileName);
        if (file.Directory is not { Exists: true } dir) return false;
        var ids = new List<int>();
        foreach (var f in dir.GetFiles(file.Name + ".*"))
            if (int.TryParse(f.Name.AsSpan(file.Name.Length + 1), out int id) && id >= 0) ids.Add(id);
        if (ids.Count == 0) return false;
        ids.Sort();
        int last = ids.Count - 1, first = last;
        while (first > 0 && ids[first - 1] == ids[first] - 1) first--;
        start = ids[first];
        end = ids[last];
        return true;
    }
}
