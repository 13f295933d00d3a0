package trainer

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/toppass/toppass/dataset"
)

func TestExportRRTFOrdersByRewardThenScore(t *testing.T) {
	p := &Problem{TaskID: "T/0"}
	add := func(i int, l dataset.Label) {
		l.TaskID, l.Index = "T/0", i
		p.Rows = append(p.Rows, MakeRow(dataset.Key{TaskID: "T/0", Index: i}, "code", &l))
	}
	add(0, dataset.Label{Status: "error", ExecError: "SyntaxError"}) // reward 0
	add(1, dataset.Label{Status: "fail"})                            // 2
	add(2, dataset.Label{Status: "pass", Passed: true})              // 3
	add(3, dataset.Label{Status: "error", ExecError: "TypeError"})   // 1
	add(4, dataset.Label{Status: "pass", Passed: true})              // 3, higher score
	scores := map[dataset.Key]float64{{TaskID: "T/0", Index: 2}: 0.1, {TaskID: "T/0", Index: 4}: 0.9}
	var buf bytes.Buffer
	if n, err := ExportRRTF([]*Problem{p}, map[string]string{"T/0": "def f():"}, scores, &buf); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	var rec RRTFRecord
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	var order []int
	for _, r := range rec.Responses {
		order = append(order, r.Index)
	}
	want := []int{4, 2, 1, 3, 0}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
	if rec.Prompt != "def f():" || rec.Responses[0].Reward != 3 || rec.Responses[4].Reward != 0 {
		t.Errorf("record %+v", rec)
	}
}
