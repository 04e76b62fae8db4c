# NativeKv build entry point for PowerShell (same steps as build.sh):
#   ./build.ps1 run [options] | test | publish | build | bench | micro [filter]
param([string]$Command = "build", [Parameter(ValueFromRemainingArguments = $true)][string[]]$Rest = @())
$ErrorActionPreference = "Stop"
Set-Location $PSScriptRoot
$env:DOTNET_CLI_TELEMETRY_OPTOUT = "1"; $env:DOTNET_NOLOGO = "1"

function Need-Apt([string]$cmd, [string[]]$packages) {
    if (Get-Command $cmd -ErrorAction SilentlyContinue) { return }
    Write-Host "==> installing $packages (for $cmd)"
    apt-get update -qq
    apt-get install -y -qq @packages | Out-Null
}

function Publish {
    dotnet publish src/Server/NativeKv.Server.csproj -c Release -r linux-x64 -o artifacts/publish -nologo -v quiet
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
    Copy-Item artifacts/publish/nativekv artifacts/nativekv -Force
}

switch ($Command) {
    "build"   { dotnet build NativeKv.sln -c Release -nologo -v quiet }
    "run"     { if (-not (Test-Path artifacts/nativekv)) { Publish }; & ./artifacts/nativekv @Rest }
    "publish" { Publish }
    "test"    {
        Need-Apt "redis-cli" @("redis-tools")
        dotnet build NativeKv.sln -c Release -nologo -v quiet
        if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
        dotnet test --solution NativeKv.sln -c Release --no-build @Rest
    }
    "bench"   { & bash perf/bench.sh @Rest }
    "micro"   { $f = if ($Rest.Count -gt 0) { $Rest[0] } else { "*" }; dotnet run -c Release --project perf/NativeKv.Perf -- --filter $f }
    default   { Write-Error "unknown command '$Command'"; exit 2 }
}
exit $LASTEXITCODE
