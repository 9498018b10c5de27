/** The child-customization hook every reusable component passes its children through (components/transform.ts). */
import { expect } from "chai";
import { transformed } from "../components/transform";

describe("transform hooks", () => {
  const args = { memorySize: 256, timeout: 30, tags: { a: "1" } as Record<string, string> };
  const opts = { protect: false };

  it("without a transform, the child gets the component's name, args and options", () => {
    const [name, a, o] = transformed(undefined, "fn", args, opts);
    expect([name, a, o]).to.deep.equal(["fn", args, opts]);
  });

  it("a partial args object is merged over the component's args (its keys win, the rest stay)", () => {
    const [, a] = transformed({ memorySize: 1024 }, "fn", args, opts);
    expect(a).to.deep.equal({ memorySize: 1024, timeout: 30, tags: { a: "1" } });
  });

  it("a function edits args and options in place, sees the child's name, and leaves the component's own objects alone", () => {
    const seen: string[] = [];
    const [, a, o] = transformed<typeof args>(
      (x, op, n) => {
        seen.push(n);
        x.timeout = 60;
        (op as any).protect = true;
      },
      "fn-worker",
      args,
      opts,
    );
    expect(seen).to.deep.equal(["fn-worker"]);
    expect(a.timeout).to.equal(60);
    expect((o as any).protect).to.equal(true);
    // The same args object may be reused for the next child: it must not carry the first child's edit.
    expect(args.timeout).to.equal(30);
    expect(opts.protect).to.equal(false);
  });
});
