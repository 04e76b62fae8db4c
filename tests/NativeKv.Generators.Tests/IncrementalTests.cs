using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace NativeKv.Generators.Tests;

public class IncrementalTests
{
    private static readonly string[] Steps =
    {
        CommandTableGenerator.HandlersStep,
        CommandTableGenerator.ContainersStep,
        CommandTableGenerator.CollectedStep,
        CommandTableGenerator.OutputStep,
    };

    private static IEnumerable<(string Step, IncrementalStepRunReason Reason)> Reasons(GeneratorDriver driver)
    {
        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        foreach (string step in Steps)
        {
            if (!result.TrackedSteps.TryGetValue(step, out var runs)) continue;
            foreach (IncrementalGeneratorRunStep run in runs)
            {
                foreach ((object _, IncrementalStepRunReason reason) in run.Outputs)
                {
                    yield return (step, reason);
                }
            }
        }
    }

    [Test]
    public async Task UnrelatedEdit_KeepsEveryStepCached()
    {
        CSharpCompilation compilation = Harness.CreateCompilation(Samples.Good);
        GeneratorDriver driver = Harness.CreateDriver().RunGenerators(compilation);

        // All steps ran at least once and produced something.
        GeneratorRunResult first = driver.GetRunResult().Results.Single();
        foreach (string step in Steps)
        {
            await Assert.That(first.TrackedSteps.ContainsKey(step)).IsTrue();
        }
        await Assert.That(first.TrackedSteps[CommandTableGenerator.ContainersStep].SelectMany(s => s.Outputs).Count()).IsEqualTo(1);

        CSharpCompilation edited = compilation.AddSyntaxTrees(
            Harness.Parse("namespace Other { internal sealed class Unrelated { public int X => 42; } }", "Unrelated.cs"));
        driver = driver.RunGenerators(edited);

        var reasons = Reasons(driver).ToList();
        await Assert.That(reasons.Count).IsGreaterThan(0);
        foreach ((string step, IncrementalStepRunReason reason) in reasons)
        {
            await Assert.That($"{step}:{reason}").IsEqualTo($"{step}:{(reason == IncrementalStepRunReason.Unchanged ? "Unchanged" : "Cached")}");
        }
        GeneratorRunResult second = driver.GetRunResult().Results.Single();
        foreach (var output in second.TrackedOutputSteps.SelectMany(kv => kv.Value).SelectMany(s => s.Outputs))
        {
            await Assert.That(output.Reason).IsEqualTo(IncrementalStepRunReason.Cached);
        }
    }

    [Test]
    public async Task EditingAHandlerBody_LeavesTheOutputUnchanged()
    {
        CSharpCompilation compilation = Harness.CreateCompilation(Samples.Good);
        GeneratorDriver driver = Harness.CreateDriver().RunGenerators(compilation);

        SyntaxTree old = compilation.SyntaxTrees.Single(t => t.FilePath == "User1.cs");
        SyntaxTree changed = Harness.Parse(Samples.Handlers.Replace("ctx.Called = \"Get\"", "ctx.Called = \"Get2\""), "User1.cs");
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(old, changed));

        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        foreach (var run in result.TrackedSteps[CommandTableGenerator.OutputStep])
        {
            foreach (var (_, reason) in run.Outputs)
            {
                await Assert.That(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged).IsTrue();
            }
        }
    }

    [Test]
    public async Task EditingAnAttribute_ModifiesTheOutput()
    {
        CSharpCompilation compilation = Harness.CreateCompilation(Samples.Good);
        GeneratorDriver driver = Harness.CreateDriver().RunGenerators(compilation);

        SyntaxTree old = compilation.SyntaxTrees.Single(t => t.FilePath == "User1.cs");
        SyntaxTree changed = Harness.Parse(Samples.Handlers.Replace("\"GET\", Arity = 2", "\"GET\", Arity = -2"), "User1.cs");
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(old, changed));

        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        var reasons = result.TrackedSteps[CommandTableGenerator.OutputStep].SelectMany(r => r.Outputs).Select(o => o.Reason).ToList();
        await Assert.That(reasons.Contains(IncrementalStepRunReason.Modified)).IsTrue();
        await Assert.That(result.GeneratedSources.Single().SourceText.ToString()).Contains("\"get\", -2,");
    }

    [Test]
    public async Task EditingAContainer_ModifiesTheOutput()
    {
        CSharpCompilation compilation = Harness.CreateCompilation(Samples.Good);
        GeneratorDriver driver = Harness.CreateDriver().RunGenerators(compilation);

        SyntaxTree old = compilation.SyntaxTrees.Single(t => t.FilePath == "User0.cs");
        SyntaxTree changed = Harness.Parse(Samples.Containers.Replace("Since = \"2.4.0\"", "Since = \"9.9.9\""), "User0.cs");
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(old, changed));

        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        await Assert.That(result.GeneratedSources.Single().SourceText.ToString()).Contains("\"9.9.9\"");
    }
}
