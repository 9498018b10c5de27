import { expect } from "chai";
describe("toolchain", () => {
  it("loads chai 6 from CommonJS", () => { expect(1 + 1).to.equal(2); });
});
